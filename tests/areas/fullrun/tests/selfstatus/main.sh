#!/bin/sh
echo $MT_TEST_NAME/$MT_ITEMPATH >> $MT_RUN_AREA_HOME/ran.log
$MT_MEGATEST -set-values :category perf :variable speed :value 10 :expected 9 :tol 2
$MT_MEGATEST -step measure :state end :status 0 -m measured
$MT_MEGATEST -test-status :state COMPLETED :status PASS -m "set by the test"
exit 1
