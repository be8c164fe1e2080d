"""Settings for the whole suite."""

import os

# `runs start` brings a server up by default; a suite of hundreds of short runs in throwaway
# areas would leave as many idle servers behind. The tests of that behaviour turn it on.
os.environ["MEGATEST_SERVER_AUTOSTART"] = "no"
