package io.pgrelay.common.tls;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;

/**
 * A buffer over a socket's input that reads the socket at most once per call, and only when it
 * holds nothing. A read returns what the buffer holds, or what one read of the socket gives, so
 * an exception from the socket (a timeout) never comes after bytes were already handed out.
 *
 * <p>The JDK's {@code BufferedInputStream} does not promise that. Within one call, after copying
 * out what it holds, it reads the socket again when the socket reports bytes available. If that
 * read fails, the call throws, and the bytes it had already copied are lost to the caller. pgjdbc
 * looks for a waiting message with a 1 ms read timeout, and the JDK's socket can time out such a
 * read even with data waiting: it counts the wait for its read lock against the timeout, and that
 * wait can be long on a busy machine. The JDK's TLS layer then loses part of a record header. It
 * reads the next header from the wrong place ("Illegal packet size"), and closes the connection.
 * A replication stream ended that way, in the first seconds, in 9 of 14 secured drains on Java 25
 * (BENCHMARKS.md, TLS).
 *
 * <p>Thread rule: its methods hold its lock, so reads from several threads do not interleave.
 */
final class OneReadBuffer extends InputStream {

    private final InputStream in;
    private final byte[] buffer;
    private int pos;
    private int count;

    OneReadBuffer(InputStream in, int size) {
        this.in = in;
        this.buffer = new byte[size];
    }

    @Override
    public synchronized int read() throws IOException {
        while (pos >= count) {
            if (fill() < 0) {
                return -1;
            }
        }
        return buffer[pos++] & 0xff;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) throws IOException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        if (pos >= count) {
            if (len >= buffer.length) {
                return in.read(b, off, len);   // as large as the buffer: straight in, still one read
            }
            if (fill() < 0) {
                return -1;
            }
        }
        int n = Math.min(len, count - pos);
        System.arraycopy(buffer, pos, b, off, n);
        pos += n;
        return n;
    }

    /** One read of the socket into the empty buffer: what it gave, or -1 at the end of the stream. */
    private int fill() throws IOException {
        pos = 0;
        count = 0;
        int n = in.read(buffer, 0, buffer.length);
        if (n > 0) {
            count = n;
        }
        return n;
    }

    @Override
    public synchronized int available() throws IOException {
        return (count - pos) + in.available();
    }

    @Override
    public synchronized long skip(long n) throws IOException {
        if (n <= 0) {
            return 0;
        }
        if (pos < count) {
            int skipped = (int) Math.min(n, count - pos);
            pos += skipped;
            return skipped;
        }
        return in.skip(n);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
