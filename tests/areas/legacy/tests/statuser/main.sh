#!/bin/sh
$MT_MEGATEST -load-test-data <<DATA
 perf , speed , 10 , 9 , 2 , km/h , fast enough
DATA
$MT_MEGATEST -test-status :state COMPLETED :status 0 :first_err "first error seen" :value 10e6 :expected_value 1.1e6 :tol 100e3 :category nada :variable sillyvar :units mFarks :comment "value comment" -setlog final.html
exit 0
