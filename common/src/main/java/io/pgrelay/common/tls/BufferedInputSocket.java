package io.pgrelay.common.tls;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketImpl;
import java.net.SocketOption;
import java.nio.channels.SocketChannel;
import java.util.Set;

/**
 * A connected socket whose input is read through a buffer ({@link OneReadBuffer}: at most one read
 * of the socket per call, so a timeout loses nothing), for the JDK's TLS to be layered on
 * ({@link PemSslFactory}). The JDK's {@code SSLSocket} reads each TLS record from the socket under
 * it in two reads (the 5-byte header, then the body), and PostgreSQL's walsender sends a record per
 * change (it flushes after each message while the socket is writable): without a buffer under TLS
 * that is two {@code read} system calls and a timed wait per row, where pgjdbc over plain TCP reads
 * 8 KB at once. With it, one read takes in as many records as the kernel holds.
 *
 * <p>The read timeout is kept here and put on the socket only before a read that reaches it. pgjdbc
 * sets it to 1 ms and back around each look for a waiting message, that is around each record of the
 * replication stream; when the record is already in the buffer, nothing reads the socket and the
 * two settings cost nothing. A read that reaches the socket has the timeout last set, and times out
 * the same way as on the socket.
 *
 * <p>Everything else goes to the socket as is: the TLS socket above closes and asks for addresses
 * through this one.
 */
final class BufferedInputSocket extends Socket {

    /** Two full TLS records (16 KB of plaintext and up to 256 bytes of overhead each). */
    static final int BUFFER_BYTES = 32 * 1024 + 512;

    private final Socket socket;
    private final InputStream in;
    /** {@code SO_TIMEOUT} as last set through this socket; the socket has it from its next read on. */
    private volatile int timeout;

    BufferedInputSocket(Socket socket) throws IOException {
        super((SocketImpl) null);
        this.socket = socket;
        this.timeout = socket.getSoTimeout();
        this.in = new OneReadBuffer(new TimedInput(socket.getInputStream(), timeout), BUFFER_BYTES);
    }

    /**
     * The socket's input, which puts the timeout last set on the socket before each read. Only the
     * buffer above reads it, under the buffer's lock, so {@code applied} needs no lock of its own.
     */
    private final class TimedInput extends FilterInputStream {

        private int applied;

        TimedInput(InputStream socketInput, int applied) {
            super(socketInput);
            this.applied = applied;
        }

        @Override
        public int read() throws IOException {
            applyTimeout();
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            applyTimeout();
            return super.read(b, off, len);
        }

        @Override
        public long skip(long n) throws IOException {
            applyTimeout();
            return super.skip(n);
        }

        private void applyTimeout() throws SocketException {
            int wanted = timeout;
            if (wanted != applied) {
                socket.setSoTimeout(wanted);
                applied = wanted;
            }
        }
    }

    @Override
    public InputStream getInputStream() throws IOException {
        if (socket.isClosed()) {
            throw new SocketException("Socket is closed");
        }
        return in;
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
        return socket.getOutputStream();
    }

    @Override
    public void connect(SocketAddress endpoint, int timeout) throws IOException {
        socket.connect(endpoint, timeout);
    }

    @Override
    public void connect(SocketAddress endpoint) throws IOException {
        socket.connect(endpoint);
    }

    @Override
    public void bind(SocketAddress bindpoint) throws IOException {
        socket.bind(bindpoint);
    }

    @Override
    public InetAddress getInetAddress() {
        return socket.getInetAddress();
    }

    @Override
    public InetAddress getLocalAddress() {
        return socket.getLocalAddress();
    }

    @Override
    public int getPort() {
        return socket.getPort();
    }

    @Override
    public int getLocalPort() {
        return socket.getLocalPort();
    }

    @Override
    public SocketAddress getRemoteSocketAddress() {
        return socket.getRemoteSocketAddress();
    }

    @Override
    public SocketAddress getLocalSocketAddress() {
        return socket.getLocalSocketAddress();
    }

    @Override
    public SocketChannel getChannel() {
        return null;   // reads must go through the buffer
    }

    @Override
    public void setTcpNoDelay(boolean on) throws SocketException {
        socket.setTcpNoDelay(on);
    }

    @Override
    public boolean getTcpNoDelay() throws SocketException {
        return socket.getTcpNoDelay();
    }

    @Override
    public void setSoLinger(boolean on, int linger) throws SocketException {
        socket.setSoLinger(on, linger);
    }

    @Override
    public int getSoLinger() throws SocketException {
        return socket.getSoLinger();
    }

    @Override
    public void sendUrgentData(int data) throws IOException {
        socket.sendUrgentData(data);
    }

    @Override
    public void setOOBInline(boolean on) throws SocketException {
        socket.setOOBInline(on);
    }

    @Override
    public boolean getOOBInline() throws SocketException {
        return socket.getOOBInline();
    }

    /** Kept, and put on the socket before its next read (see the class comment). */
    @Override
    public void setSoTimeout(int timeout) throws SocketException {
        if (socket.isClosed()) {
            throw new SocketException("Socket is closed");
        }
        if (timeout < 0) {
            throw new IllegalArgumentException("timeout can't be negative");
        }
        this.timeout = timeout;
    }

    @Override
    public int getSoTimeout() throws SocketException {
        if (socket.isClosed()) {
            throw new SocketException("Socket is closed");
        }
        return timeout;
    }

    @Override
    public void setSendBufferSize(int size) throws SocketException {
        socket.setSendBufferSize(size);
    }

    @Override
    public int getSendBufferSize() throws SocketException {
        return socket.getSendBufferSize();
    }

    @Override
    public void setReceiveBufferSize(int size) throws SocketException {
        socket.setReceiveBufferSize(size);
    }

    @Override
    public int getReceiveBufferSize() throws SocketException {
        return socket.getReceiveBufferSize();
    }

    @Override
    public void setKeepAlive(boolean on) throws SocketException {
        socket.setKeepAlive(on);
    }

    @Override
    public boolean getKeepAlive() throws SocketException {
        return socket.getKeepAlive();
    }

    @Override
    public void setTrafficClass(int tc) throws SocketException {
        socket.setTrafficClass(tc);
    }

    @Override
    public int getTrafficClass() throws SocketException {
        return socket.getTrafficClass();
    }

    @Override
    public void setReuseAddress(boolean on) throws SocketException {
        socket.setReuseAddress(on);
    }

    @Override
    public boolean getReuseAddress() throws SocketException {
        return socket.getReuseAddress();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    @Override
    public void shutdownInput() throws IOException {
        socket.shutdownInput();
    }

    @Override
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public String toString() {
        return socket.toString();
    }

    @Override
    public boolean isConnected() {
        return socket.isConnected();
    }

    @Override
    public boolean isBound() {
        return socket.isBound();
    }

    @Override
    public boolean isClosed() {
        return socket.isClosed();
    }

    @Override
    public boolean isInputShutdown() {
        return socket.isInputShutdown();
    }

    @Override
    public boolean isOutputShutdown() {
        return socket.isOutputShutdown();
    }

    @Override
    public void setPerformancePreferences(int connectionTime, int latency, int bandwidth) {
        socket.setPerformancePreferences(connectionTime, latency, bandwidth);
    }

    @Override
    public <T> Socket setOption(SocketOption<T> name, T value) throws IOException {
        socket.setOption(name, value);
        return this;
    }

    @Override
    public <T> T getOption(SocketOption<T> name) throws IOException {
        return socket.getOption(name);
    }

    @Override
    public Set<SocketOption<?>> supportedOptions() {
        return socket.supportedOptions();
    }
}
