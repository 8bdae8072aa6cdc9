package io.pgrelay.sandbox.bench;

import io.pgrelay.common.tls.PemSslFactory;
import io.pgrelay.common.tls.TestCa;
import io.pgrelay.common.tls.TlsContexts;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Properties;

/**
 * What reading one small TLS record costs the reading thread, as a replication connection reads
 * the walsender's one record per change: a TLS server on loopback writes {@code --records} records
 * of {@code --bytes} each (a flush per record), the client reads them through an 8 KB buffer as
 * pgjdbc does (when the buffer is empty: the timeout read, set to 1 ms, the read, the timeout set back,
 * as its {@code hasMessagePending} does for a replication stream), over the agent's
 * {@link PemSslFactory} (TLS on a buffered socket) and over the JDK's
 * TLS socket layered on the plain socket directly (as before), alternating; prints the reading
 * thread's CPU per record. One core and a few seconds; see BENCHMARKS.md, TLS.
 *
 * <pre>java -cp sandbox/target/pgrelay-sandbox.jar io.pgrelay.sandbox.bench.TlsRecordRead [--records N] [--bytes N] [--repeats N]</pre>
 */
public final class TlsRecordRead {

    private TlsRecordRead() {
    }

    public static void main(String[] args) throws Exception {
        int records = 500_000;
        int bytes = 200;
        int repeats = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--records" -> records = Integer.parseInt(args[++i]);
                case "--bytes" -> bytes = Integer.parseInt(args[++i]);
                case "--repeats" -> repeats = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--records N, --bytes N, --repeats N)");
            }
        }
        try (TestCa ca = TestCa.create("tls-record-read")) {
            TestCa.Issued server = ca.server("server", "localhost", "localhost");
            Properties info = new Properties();
            info.setProperty("sslmode", "verify-full");
            info.setProperty("sslrootcert", ca.certificate().toString());
            for (int r = 1; r <= repeats; r++) {
                for (boolean buffered : new boolean[] {false, true}) {
                    double us = run(server, info, buffered, records, bytes);
                    System.out.printf("run %d, %s: %,d records of %d B, reading thread %.2f µs CPU per record%n", r,
                            buffered ? "PemSslFactory (buffered socket under TLS)" : "TLS directly on the socket", records, bytes, us);
                }
            }
        }
    }

    private static double run(TestCa.Issued server, Properties info, boolean buffered, int records, int bytes) throws Exception {
        try (ServerSocket listener = TlsContexts.server(server.cert(), server.key()).getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread writer = new Thread(() -> {
                try (Socket s = listener.accept(); OutputStream out = s.getOutputStream()) {
                    byte[] row = new byte[bytes];
                    for (int i = 0; i < records; i++) {
                        out.write(row);
                        out.flush();
                    }
                    s.getInputStream().read();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            writer.start();
            Socket plain = new Socket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
            int port = listener.getLocalPort();
            Socket tls = buffered ? new PemSslFactory(info).createSocket(plain, "localhost", port, true)
                    : TlsContexts.client(java.nio.file.Path.of(info.getProperty("sslrootcert")), true, null, null)
                            .getSocketFactory().createSocket(plain, "localhost", port, true);
            tls.setSoTimeout(10_000);
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long cpu0 = threads.getCurrentThreadCpuTime();
            try (InputStream in = new BufferedInputStream(tls.getInputStream(), 8192)) {
                byte[] buf = new byte[8192];
                long got = 0;
                while (got < (long) records * bytes) {
                    int n;
                    if (in.available() > 0) {
                        n = in.read(buf);
                    } else {
                        int timeout = tls.getSoTimeout();
                        tls.setSoTimeout(1);
                        try {
                            n = in.read(buf);
                        } catch (SocketTimeoutException e) {
                            n = 0;   // the next record is not here yet
                        } finally {
                            tls.setSoTimeout(timeout);
                        }
                    }
                    if (n < 0) {
                        throw new IllegalStateException("the writer closed early");
                    }
                    got += n;
                }
                long cpu = threads.getCurrentThreadCpuTime() - cpu0;
                tls.close();
                writer.join();
                return cpu / 1e3 / records;
            }
        }
    }
}
