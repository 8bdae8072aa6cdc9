package io.pgrelay.agent.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgrelay.common.tls.PemSslFactory;
import io.pgrelay.common.tls.TestCa;
import io.pgrelay.common.tls.TlsContexts;
import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * PemSslFactory layers TLS on a buffered socket (one read of the socket takes in many small TLS
 * records, as a walsender sends them): what pgjdbc does with the socket still works — records of any
 * size arrive whole and in order, a read waits for the timeout last set, a read that times out leaves
 * the stream usable, closing closes.
 */
class BufferedTlsInputTest {

    @Test
    void manySmallRecordsATimeoutAndCloseBehaveAsOnAPlainTlsSocket() throws Exception {
        try (TestCa ca = TestCa.create("buffered-tls")) {
            TestCa.Issued server = ca.server("server", "localhost", "localhost");
            try (ServerSocket listener = TlsContexts.server(server.cert(), server.key()).getServerSocketFactory()
                    .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                CountDownLatch second = new CountDownLatch(1);
                CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
                    try (Socket s = listener.accept(); OutputStream out = s.getOutputStream()) {
                        for (int i = 0; i < 5_000; i++) {   // one TLS record each, like a walsender's flush per change
                            out.write(("row " + i + ";").getBytes(StandardCharsets.US_ASCII));
                            out.flush();
                        }
                        out.write(new byte[40_000]);         // larger than a record and than the buffer
                        out.flush();
                        second.await(10, TimeUnit.SECONDS);
                        out.write("after the timeout".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        s.getInputStream().read();           // until the client closes
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Properties info = new Properties();
                info.setProperty("sslmode", "verify-full");
                info.setProperty("sslrootcert", ca.certificate().toString());
                Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
                Socket tls = new PemSslFactory(info).createSocket(plain, "localhost", listener.getLocalPort(), true);
                assertThat(tls).isInstanceOf(SSLSocket.class);
                tls.setTcpNoDelay(true);
                assertThat(plain.getTcpNoDelay()).isTrue();
                tls.setSoTimeout(5_000);
                assertThat(tls.getSoTimeout()).isEqualTo(5_000);
                InputStream in = tls.getInputStream();
                StringBuilder expected = new StringBuilder();
                for (int i = 0; i < 5_000; i++) {
                    expected.append("row ").append(i).append(';');
                }
                byte[] rows = new byte[expected.length()];
                new DataInputStream(in).readFully(rows);
                assertThat(new String(rows, StandardCharsets.US_ASCII)).isEqualTo(expected.toString());
                byte[] big = new byte[40_000];
                new DataInputStream(in).readFully(big);
                assertThat(big).containsOnly((byte) 0);
                assertThat(plain.getSoTimeout()).as("the timeout reaches the socket with its reads").isEqualTo(5_000);

                // Nothing comes until `second`: as pgjdbc's hasMessagePending peeks. The timeout last
                // set is the one a read that reaches the socket waits for, not an earlier one.
                tls.setSoTimeout(60_000);
                tls.setSoTimeout(50);
                assertThat(tls.getSoTimeout()).isEqualTo(50);
                long before = System.nanoTime();
                assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before)).isBetween(40L, 3_000L);
                tls.setSoTimeout(5_000);
                second.countDown();
                byte[] after = new byte["after the timeout".length()];
                new DataInputStream(in).readFully(after);
                assertThat(new String(after, StandardCharsets.US_ASCII)).isEqualTo("after the timeout");

                tls.close();
                assertThat(plain.isClosed()).isTrue();
                assertThatThrownBy(() -> tls.setSoTimeout(1)).isInstanceOf(java.net.SocketException.class);
                serving.get(10, TimeUnit.SECONDS);
            }
        }
    }
}
