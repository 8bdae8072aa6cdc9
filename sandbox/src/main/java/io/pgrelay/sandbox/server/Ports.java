package io.pgrelay.sandbox.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on the loopback interface, for servers and agents started by the sandbox. */
public final class Ports {

    private Ports() {
    }

    /** A port free at the moment of the call (another process may take it before it is used). */
    public static int free() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
