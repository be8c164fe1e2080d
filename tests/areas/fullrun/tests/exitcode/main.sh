#!/bin/sh
echo $MT_TEST_NAME/$MT_ITEMPATH >> $MT_RUN_AREA_HOME/ran.log
exit $CODE
