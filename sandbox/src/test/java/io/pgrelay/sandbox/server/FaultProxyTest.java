package io.pgrelay.sandbox.server;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The relay in front of an echo server on 127.0.0.1: each mode as a client sees it. */
class FaultProxyTest {

    private ServerSocket echo;
    private FaultProxy proxy;

    @BeforeEach
    void startEchoServerAndProxy() throws IOException {
        echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!echo.isClosed()) {
                try {
                    Socket s = echo.accept();
                    Thread e = new Thread(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException ignored) {
                            // reset by the proxy
                        }
                    });
                    e.setDaemon(true);
                    e.start();
                } catch (IOException ignored) {
                    // closed
                }
            }
        });
        t.setDaemon(true);
        t.start();
        proxy = FaultProxy.start("echo", echo.getLocalPort());
    }

    @AfterEach
    void close() throws IOException {
        proxy.close();
        echo.close();
    }

    @Test
    void passForwardsBothWays() throws IOException {
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "hello")).isEqualTo("hello");
        }
    }

    @Test
    void latencyDelaysEachDirection() throws IOException {
        proxy.latency(Duration.ofMillis(150));
        try (Socket s = connect()) {
            long t0 = System.nanoTime();
            assertThat(roundTrip(s, "slow")).isEqualTo("slow");
            assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(300);
        }
    }

    @Test
    void blackholeHoldsBytesUntilThePathIsBack() throws IOException {
        try (Socket open = connect()) {
            assertThat(roundTrip(open, "before")).isEqualTo("before");
            proxy.blackhole();
            send(open, "held");
            assertThatThrownBy(() -> read(open, 4)).isInstanceOf(SocketTimeoutException.class);
            try (Socket late = connect()) {   // accepted, but goes nowhere yet
                send(late, "late");
                assertThatThrownBy(() -> read(late, 4)).isInstanceOf(SocketTimeoutException.class);
                proxy.pass();
                assertThat(read(open, 4)).isEqualTo("held");
                assertThat(read(late, 4)).isEqualTo("late");
            }
        }
    }

    @Test
    void dropResetsOpenConnectionsAndNewOnes() throws IOException {
        try (Socket open = connect()) {
            assertThat(roundTrip(open, "x")).isEqualTo("x");
            proxy.drop();
            assertThatThrownBy(() -> roundTrip(open, "y")).isInstanceOf(IOException.class);
            assertThat(proxy.openConnections()).isZero();
        }
        try (Socket refused = connect()) {
            assertThatThrownBy(() -> roundTrip(refused, "z")).isInstanceOf(IOException.class);
        }
        proxy.pass();
        try (Socket s = connect()) {
            assertThat(roundTrip(s, "again")).isEqualTo("again");
        }
    }

    @Test
    void closeResetsEveryConnection() throws IOException {
        try (Socket open = connect()) {
            assertThat(roundTrip(open, "x")).isEqualTo("x");
            proxy.blackhole();
            proxy.close();
            assertThatThrownBy(() -> roundTrip(open, "y")).isInstanceOf(IOException.class);
            assertThat(proxy.openConnections()).isZero();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
        s.setSoTimeout(1_000);
        return s;
    }

    private static String roundTrip(Socket s, String text) throws IOException {
        send(s, text);
        return read(s, text.length());
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
    }

    /** Reads exactly {@code n} bytes; an IOException (EOFException) if the stream ends first. */
    private static String read(Socket s, int n) throws IOException {
        byte[] b = s.getInputStream().readNBytes(n);
        if (b.length < n) {
            throw new java.io.EOFException("stream ended after " + b.length + " of " + n + " bytes");
        }
        return new String(b, StandardCharsets.US_ASCII);
    }
}
