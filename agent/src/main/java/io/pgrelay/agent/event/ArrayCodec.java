package io.pgrelay.agent.event;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An array literal as PostgreSQL's {@code array_out} writes it — {@code {1,2}},
 * {@code {{a,b},{c,d}}}, {@code {"x, y",NULL,"q\"uote"}}, {@code [0:1]={7,8}} — to a JSON array
 * whose elements the element type's codec writes. Multi-dimensional arrays nest; the bounds
 * prefix is dropped; unquoted {@code NULL} is null, a quoted one the string. Not thread-safe: it
 * reuses a scratch buffer for unescaped elements.
 */
final class ArrayCodec implements ValueCodec {

    private final ValueCodec element;
    private final byte delimiter;
    private byte[] scratch = new byte[64];

    ArrayCodec(ValueCodec element, char delimiter) {
        this.element = element;
        this.delimiter = (byte) delimiter;
    }

    @Override
    public void write(byte[] text, int off, int len, JsonBuffer out) {
        int end = off + len;
        int p = off;
        if (p < end && text[p] == '[') {
            while (p < end && text[p] != '=') {
                p++;
            }
            p++;
        }
        p = writeArray(text, p, end, out);
        if (p != end) {
            throw malformed(text, off, len, "unexpected text after the closing brace");
        }
    }

    /** Writes the array starting at {@code text[p] == '{'}; returns the index after its '}'. */
    private int writeArray(byte[] text, int p, int end, JsonBuffer out) {
        if (p >= end || text[p] != '{') {
            throw malformed(text, p, end - p, "expected '{'");
        }
        out.write((byte) '[');
        p++;
        if (p < end && text[p] == '}') {
            out.write((byte) ']');
            return p + 1;
        }
        while (true) {
            if (p >= end) {
                throw malformed(text, p, 0, "array literal ends before its closing brace");
            }
            byte b = text[p];
            if (b == '{') {
                p = writeArray(text, p, end, out);
            } else if (b == '"') {
                p = writeQuoted(text, p + 1, end, out);
            } else {
                int start = p;
                while (p < end && text[p] != delimiter && text[p] != '}') {
                    p++;
                }
                if (isNull(text, start, p - start)) {
                    out.writeNull();
                } else {
                    element.write(text, start, p - start, out);
                }
            }
            if (p >= end) {
                throw malformed(text, p, 0, "array literal ends before its closing brace");
            }
            if (text[p] == '}') {
                out.write((byte) ']');
                return p + 1;
            }
            if (text[p] != delimiter) {
                throw malformed(text, p, end - p, "expected '" + (char) delimiter + "' or '}'");
            }
            out.write((byte) ',');
            p++;
        }
    }

    /** Unescapes a quoted element (from after its opening quote) and writes it; returns the index after the closing quote. */
    private int writeQuoted(byte[] text, int p, int end, JsonBuffer out) {
        int n = 0;
        while (p < end && text[p] != '"') {
            if (text[p] == '\\') {
                p++;
                if (p >= end) {
                    break;
                }
            }
            if (n == scratch.length) {
                scratch = Arrays.copyOf(scratch, n * 2);
            }
            scratch[n++] = text[p++];
        }
        if (p >= end) {
            throw malformed(text, p, 0, "quoted array element is not closed");
        }
        element.write(scratch, 0, n, out);
        return p + 1;
    }

    private static boolean isNull(byte[] text, int off, int len) {
        return len == 4 && (text[off] | 0x20) == 'n' && (text[off + 1] | 0x20) == 'u'
                && (text[off + 2] | 0x20) == 'l' && (text[off + 3] | 0x20) == 'l';
    }

    private static EventEncodingException malformed(byte[] text, int off, int len, String why) {
        String near = new String(text, off, Math.min(len, 40), StandardCharsets.UTF_8);
        return new EventEncodingException("malformed array literal: " + why + " near '" + near + "'");
    }
}
