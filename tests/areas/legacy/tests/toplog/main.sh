#!/bin/sh
$MT_MEGATEST -test-status :state COMPLETED :status PASS -set-toplog summary.html :first_warn "warned in $MT_ITEMPATH"
exit 0
