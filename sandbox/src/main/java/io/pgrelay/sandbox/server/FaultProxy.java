package io.pgrelay.sandbox.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP relay on 127.0.0.1 in front of one server, whose network can be broken at runtime, so that
 * one client — one agent — is cut off from that server while others are not:
 *
 * <ul>
 *   <li>{@link #pass()}: bytes flow (after {@link #latency(Duration)} each way, if set);</li>
 *   <li>{@link #drop()}: every open connection is reset on both sides, and a new one is reset as soon
 *       as it is accepted — a host that is down, or a firewall that rejects;</li>
 *   <li>{@link #blackhole()}: connections stay open and new ones are accepted, but nothing is
 *       forwarded — a silent partition. Bytes already sent wait, as TCP would retransmit them, and
 *       flow once the path is back ({@link #pass()}); a connection accepted meanwhile reaches the
 *       server only then. The sender's writes block once about {@value #QUEUED_CHUNKS} chunks wait.</li>
 * </ul>
 *
 * <p>What a relay cannot show: the kernels on both ends still answer each other's TCP keepalives
 * and retransmissions (both ends talk to this relay over loopback), so a blackholed connection
 * ends only by a timeout of the application's own — which is what the drills measure; on a real
 * network TCP gives up after minutes (keepalive: 2 hours by Linux's default).
 */
public final class FaultProxy implements AutoCloseable {

    public enum Mode { PASS, DROP, BLACKHOLE }

    private static final int CHUNK = 16 * 1024;
    private static final int QUEUED_CHUNKS = 64;
    private static final int CONNECT_TIMEOUT_MS = 5_000;
    /** The end of one direction's stream, queued behind its last bytes. */
    private static final byte[] EOF = new byte[0];

    private final String name;
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private final Object lock = new Object();
    private Mode mode = Mode.PASS;     // guarded by lock
    private long latencyNanos;         // guarded by lock
    private boolean closed;            // guarded by lock

    private FaultProxy(String name, ServerSocket server, InetSocketAddress target) {
        this.name = name;
        this.server = server;
        this.target = target;
        this.acceptor = new Thread(this::acceptUntilClosed, "fault-proxy-" + name);
        acceptor.setDaemon(true);
    }

    /** A relay on a free port of 127.0.0.1 to {@code targetPort} on 127.0.0.1. */
    public static FaultProxy start(String name, int targetPort) throws IOException {
        return start(name, 0, targetPort);
    }

    /** A relay on {@code port} (0: any free one) of 127.0.0.1 to {@code targetPort} on 127.0.0.1. */
    public static FaultProxy start(String name, int port, int targetPort) throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ServerSocket server = new ServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(loopback, port), 128);
        FaultProxy proxy = new FaultProxy(name, server, new InetSocketAddress(loopback, targetPort));
        proxy.acceptor.start();
        return proxy;
    }

    public String name() {
        return name;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:<port>}, where clients connect instead of the server. */
    public String hostPort() {
        return "127.0.0.1:" + port();
    }

    public Mode mode() {
        synchronized (lock) {
            return mode;
        }
    }

    /** Connections open now (each a client and its server side). */
    public int openConnections() {
        return links.size();
    }

    /** Lets bytes flow again, held bytes first; keeps the latency. */
    public void pass() {
        setMode(Mode.PASS);
    }

    /** Resets every open connection and every new one until {@link #pass()}. */
    public void drop() {
        setMode(Mode.DROP);
        links.forEach(Link::reset);
    }

    /** Forwards nothing, closes nothing, until {@link #pass()}. */
    public void blackhole() {
        setMode(Mode.BLACKHOLE);
    }

    /** Delays every chunk by {@code delay} in each direction from now on (zero: none); bytes flow. */
    public void latency(Duration delay) {
        synchronized (lock) {
            latencyNanos = delay.toNanos();
        }
        pass();
    }

    private void setMode(Mode next) {
        synchronized (lock) {
            mode = next;
            lock.notifyAll();
        }
    }

    /** Waits while blackholed; false once dropped or closed. */
    private boolean awaitFlowing() throws InterruptedException {
        synchronized (lock) {
            while (mode == Mode.BLACKHOLE && !closed) {
                lock.wait();
            }
            return mode == Mode.PASS && !closed;
        }
    }

    private long deadline() {
        synchronized (lock) {
            return System.nanoTime() + latencyNanos;
        }
    }

    private void acceptUntilClosed() {
        while (true) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;   // closed
            }
            Link link = new Link(client);
            links.add(link);
            if (mode() == Mode.DROP) {
                link.reset();
                continue;
            }
            daemon("connect", link::connectAndRelay).start();
        }
    }

    private Thread daemon(String role, Runnable task) {
        Thread t = new Thread(task, "fault-proxy-" + name + "-" + role);
        t.setDaemon(true);
        return t;
    }

    /** One client connection and, once the path allows, its connection to the server. */
    private final class Link {
        private final Socket client;
        private final Socket upstream = new Socket();
        private final Set<Thread> relays = ConcurrentHashMap.newKeySet();
        private int directionsOpen = 2;   // guarded by this

        Link(Socket client) {
            this.client = client;
        }

        void connectAndRelay() {
            try {
                if (!awaitFlowing()) {
                    reset();
                    return;
                }
                upstream.connect(target, CONNECT_TIMEOUT_MS);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                relay(client, upstream, "up");
                relay(upstream, client, "down");
            } catch (IOException | InterruptedException e) {
                reset();
            }
        }

        /** A reader that queues what arrives (stamped with its delivery time) and a writer that forwards it. */
        private void relay(Socket from, Socket to, String direction) throws IOException {
            BlockingQueue<Object[]> queue = new ArrayBlockingQueue<>(QUEUED_CHUNKS);
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            start(direction + "-read", () -> {
                byte[] buf = new byte[CHUNK];
                try {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        queue.put(new Object[] {deadline(), Arrays.copyOf(buf, n)});
                    }
                    queue.put(new Object[] {deadline(), EOF});
                } catch (IOException | InterruptedException e) {
                    reset();
                }
            });
            start(direction + "-write", () -> {
                try {
                    while (true) {
                        Object[] item = queue.take();
                        long wait = (long) item[0] - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                        if (!awaitFlowing()) {
                            reset();
                            return;
                        }
                        byte[] bytes = (byte[]) item[1];
                        if (bytes == EOF) {
                            to.shutdownOutput();
                            directionClosed();
                            return;
                        }
                        out.write(bytes);
                        out.flush();
                    }
                } catch (IOException | InterruptedException e) {
                    reset();
                }
            });
        }

        private void start(String role, Runnable task) {
            Thread t = daemon(role, task);
            relays.add(t);
            t.start();
        }

        private void directionClosed() {
            boolean both;
            synchronized (this) {
                both = --directionsOpen == 0;
            }
            if (both) {
                close(false);
            }
        }

        /** Closes both sides with an RST (SO_LINGER 0), as a rejecting network would. */
        void reset() {
            close(true);
        }

        private void close(boolean abortive) {
            links.remove(this);
            for (Socket s : new Socket[] {client, upstream}) {
                try {
                    if (abortive && !s.isClosed()) {
                        s.setSoLinger(true, 0);
                    }
                } catch (SocketException ignored) {
                    // not connected: nothing to reset
                }
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            // a writer waiting for bytes, or for a blackhole to end, would wait forever
            relays.stream().filter(t -> t != Thread.currentThread()).forEach(Thread::interrupt);
        }
    }

    /** Stops accepting and resets every connection. */
    @Override
    public void close() throws IOException {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        server.close();
        links.forEach(Link::reset);
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "proxy " + name + " " + hostPort() + " -> " + target.getPort() + " (" + mode() + ")";
    }
}
