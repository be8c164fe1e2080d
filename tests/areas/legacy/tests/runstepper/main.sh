#!/bin/sh
$MT_MEGATEST -runstep compile -logpro compile.logpro "echo compiling; echo 'warning: old api' >&2" -m "compile step"
echo "compile=$?" > codes.txt
$MT_MEGATEST -runstep unit sh -c 'echo "unit $0"; exit 1' "one arg"
echo "unit=$?" >> codes.txt
$MT_MEGATEST test runstep --name listing -m sectioned -- ls codes.txt
exit 0
