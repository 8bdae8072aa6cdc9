package io.pgrelay.agent.event;

import java.util.Arrays;

/**
 * bytea → base64 string. Reads PostgreSQL's hex output ({@code \x0a0b…}) three bytes at a time
 * straight into base64; the older escape output ({@code bytea_output=escape}) is decoded too.
 */
final class ByteaCodec implements ValueCodec {

    static final ByteaCodec INSTANCE = new ByteaCodec();

    @Override
    public void write(byte[] text, int off, int len, JsonBuffer out) {
        if (len >= 2 && text[off] == '\\' && text[off + 1] == 'x') {
            writeHex(text, off + 2, len - 2, out);
        } else {
            byte[] raw = unescape(text, off, len);
            out.writeBase64(raw, 0, raw.length);
        }
    }

    private static void writeHex(byte[] text, int off, int len, JsonBuffer out) {
        if ((len & 1) != 0) {
            throw new EventEncodingException("bytea hex value has an odd number of digits (" + len + ")");
        }
        out.write((byte) '"');
        int end = off + len;
        int group = 0;
        int count = 0;
        for (int i = off; i < end; i += 2) {
            group = group << 8 | hexDigit(text[i]) << 4 | hexDigit(text[i + 1]);
            if (++count == 3) {
                out.writeBase64Group(group, 3);
                group = 0;
                count = 0;
            }
        }
        if (count > 0) {
            out.writeBase64Group(group << (8 * (3 - count)), count);
        }
        out.write((byte) '"');
    }

    private static int hexDigit(byte b) {
        if (b >= '0' && b <= '9') {
            return b - '0';
        }
        if (b >= 'a' && b <= 'f') {
            return b - 'a' + 10;
        }
        if (b >= 'A' && b <= 'F') {
            return b - 'A' + 10;
        }
        throw new EventEncodingException("bytea hex value has a non-hex byte 0x" + Integer.toHexString(b & 0xFF));
    }

    /** The escape format: {@code \\} is a backslash, {@code \ooo} an octal byte, anything else itself. */
    private static byte[] unescape(byte[] text, int off, int len) {
        byte[] raw = new byte[len];
        int n = 0;
        int end = off + len;
        for (int i = off; i < end; i++) {
            if (text[i] != '\\') {
                raw[n++] = text[i];
            } else if (i + 1 < end && text[i + 1] == '\\') {
                raw[n++] = '\\';
                i++;
            } else if (i + 3 < end && isOctal(text[i + 1]) && isOctal(text[i + 2]) && isOctal(text[i + 3])) {
                raw[n++] = (byte) ((text[i + 1] - '0') << 6 | (text[i + 2] - '0') << 3 | (text[i + 3] - '0'));
                i += 3;
            } else {
                throw new EventEncodingException("bytea value has an invalid escape at byte " + (i - off));
            }
        }
        return Arrays.copyOf(raw, n);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
