package io.pgrelay.common.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import org.junit.jupiter.api.Test;

/**
 * A timeout from the socket never costs bytes already handed out: what a TLS layer reading record
 * headers through the buffer depends on (the JDK's {@code BufferedInputStream} fails this test: its
 * read throws away the first chunk when the second read of the same call times out).
 */
class OneReadBufferTest {

    /**
     * A socket's input as a script: each read gives the next chunk, or throws the timeout the script
     * holds there; {@code available()} says more is waiting whenever the script has more, as a
     * socket does when the next bytes are in the kernel.
     */
    private static final class ScriptedInput extends InputStream {
        private final Deque<Object> script = new ArrayDeque<>();
        int reads;

        ScriptedInput then(String chunk) {
            script.add(chunk.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return this;
        }

        ScriptedInput thenTimeout() {
            script.add(new SocketTimeoutException("Read timed out"));
            return this;
        }

        @Override
        public int read() {
            throw new UnsupportedOperationException("the buffer reads in chunks");
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            reads++;
            Object next = script.poll();
            if (next == null) {
                return -1;
            }
            if (next instanceof SocketTimeoutException timeout) {
                throw timeout;
            }
            byte[] chunk = (byte[]) next;
            int n = Math.min(len, chunk.length);
            System.arraycopy(chunk, 0, b, off, n);
            if (n < chunk.length) {
                script.push(Arrays.copyOfRange(chunk, n, chunk.length));
            }
            return n;
        }

        @Override
        public int available() {
            return script.isEmpty() ? 0 : 1;
        }
    }

    private static String read(InputStream in, int len) throws IOException {
        byte[] b = new byte[len];
        int n = in.read(b, 0, len);
        return n < 0 ? null : new String(b, 0, n, java.nio.charset.StandardCharsets.US_ASCII);
    }

    @Test
    void aTimeoutAfterBytesWereHandedOutLosesNothing() throws IOException {
        ScriptedInput socket = new ScriptedInput().then("\u0017\u0003").thenTimeout().then("\u0003\u0001\u0010").then("rest");
        OneReadBuffer in = new OneReadBuffer(socket, 64);

        // Five bytes asked (a TLS record header), two came: the call returns them and does not read again.
        assertThat(read(in, 5)).isEqualTo("\u0017\u0003");
        assertThat(socket.reads).isEqualTo(1);
        assertThatThrownBy(() -> read(in, 3)).isInstanceOf(SocketTimeoutException.class);
        assertThat(read(in, 3)).isEqualTo("\u0003\u0001\u0010");
        assertThat(read(in, 64)).isEqualTo("rest");
        assertThat(read(in, 64)).isNull();
    }

    @Test
    void aReadReturnsWhatTheBufferHoldsWithoutAskingTheSocket() throws IOException {
        ScriptedInput socket = new ScriptedInput().then("abcdef").thenTimeout().then("gh");
        OneReadBuffer in = new OneReadBuffer(socket, 64);

        assertThat(read(in, 2)).isEqualTo("ab");
        assertThat(read(in, 10)).isEqualTo("cdef");   // the rest of the buffer, though the socket has more
        assertThat(socket.reads).isEqualTo(1);
        assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
        assertThat(in.read()).isEqualTo('g');
        assertThat(read(in, 10)).isEqualTo("h");
    }

    @Test
    void readsAsLargeAsTheBufferGoStraightThroughInOneRead() throws IOException {
        ScriptedInput socket = new ScriptedInput().then("0123456789abcdef");
        OneReadBuffer in = new OneReadBuffer(socket, 8);

        assertThat(read(in, 8)).isEqualTo("01234567");
        assertThat(socket.reads).isEqualTo(1);
        assertThat(read(in, 3)).isEqualTo("89a");
        assertThat(in.skip(2)).isEqualTo(2);
        assertThat(read(in, 10)).isEqualTo("def");
        assertThat(socket.reads).isEqualTo(2);
    }
}
