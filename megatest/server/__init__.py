"""megatest.server: the area's HTTP JSON server, found through packets in `<area>/.meta/`.

`packets` (the packet file format and its staleness rules) and `client` (find, ping and start
a server) import nothing but the standard library, so that a test's helper can look for a
server cheaply; `service` is the server process itself.
"""
