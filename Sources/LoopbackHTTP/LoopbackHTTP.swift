/// Minimal HTTP/1.1 server on loopback sockets; filled in by the simulator work.
