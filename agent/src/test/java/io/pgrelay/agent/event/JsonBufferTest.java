package io.pgrelay.agent.event;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class JsonBufferTest {

    private static String string(String s) {
        JsonBuffer out = new JsonBuffer(1);
        out.writeString(s);
        return out.toString();
    }

    @Test
    void quotesAndBackslashesAreEscaped() {
        assertThat(string("say \"hi\"")).isEqualTo("\"say \\\"hi\\\"\"");
        assertThat(string("C:\\dir")).isEqualTo("\"C:\\\\dir\"");
    }

    @Test
    void controlCharactersUseShortOrUnicodeEscapes() {
        assertThat(string("a\nb\tc\rd\be\ff")).isEqualTo("\"a\\nb\\tc\\rd\\be\\ff\"");
        assertThat(string("\u0000\u0001\u001f")).isEqualTo("\"\\u0000\\u0001\\u001f\"");
        assertThat(string("\u007f")).isEqualTo("\"\u007f\"");
    }

    @Test
    void multibyteUtf8PassesThrough() {
        String text = "naïve ☃ 日本 🎉";
        assertThat(string(text)).isEqualTo("\"" + text + "\"");
    }

    @Test
    void everyEscapedStringParsesBackToItself() throws Exception {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x250; c++) {
            all.append(c);
        }
        all.append("🎉\"\\");
        assertThat(new ObjectMapper().readValue(string(all.toString()), String.class)).isEqualTo(all.toString());
    }

    @Test
    void numbersAndLsnsAreWrittenWithoutAllocation() {
        JsonBuffer out = new JsonBuffer(1);
        out.writeLong(0);
        out.write((byte) ' ');
        out.writeLong(-771);
        out.write((byte) ' ');
        out.writeLong(Long.MIN_VALUE);
        out.write((byte) ' ');
        out.writeLsn(io.pgrelay.agent.core.Lsn.parse("16/3002D50").value());
        out.write((byte) ' ');
        out.writeLsn(0);
        out.write((byte) ' ');
        out.writeLsn(-1L);
        assertThat(out.toString()).isEqualTo("0 -771 -9223372036854775808 \"16/3002D50\" \"0/0\" \"FFFFFFFF/FFFFFFFF\"");
    }

    @Test
    void longsAreWrittenAsJavaPrintsThem() {
        java.util.List<Long> values = new java.util.ArrayList<>(java.util.List.of(0L, 9L, 10L, 99L, 100L, 101L, Long.MAX_VALUE,
                -Long.MAX_VALUE, Long.MIN_VALUE));
        for (long p = 1; p > 0 && p <= Long.MAX_VALUE / 10; p *= 10) {
            values.addAll(java.util.List.of(p - 1, p, p + 1, -p, 10 * p - 1));
        }
        java.util.Random random = new java.util.Random(7);
        for (int i = 0; i < 2000; i++) {
            values.add(i % 2 == 0 ? random.nextLong() : random.nextInt(1_000_000));
        }
        for (long v : values) {
            JsonBuffer out = new JsonBuffer(1);
            out.writeLong(v);
            assertThat(out.toString()).isEqualTo(Long.toString(v));
        }
        JsonBuffer padded = new JsonBuffer(1);
        padded.writePadded(42, 6);
        padded.writePadded(1234567, 3);
        assertThat(padded.toString()).isEqualTo("0000421234567");
    }

    @Test
    void lsnIsWrittenAsLsnPrintsIt() {
        java.util.Random random = new java.util.Random(42);
        for (int i = 0; i < 1000; i++) {
            long value = i < 500 ? random.nextLong() : random.nextInt() & 0xFFFFFFFFL;
            JsonBuffer out = new JsonBuffer(1);
            out.writeLsn(value);
            assertThat(out.toString()).isEqualTo("\"" + io.pgrelay.agent.core.Lsn.of(value) + "\"");
        }
    }

    @Test
    void bufferGrowsAndResets() {
        JsonBuffer out = new JsonBuffer(2);
        byte[] big = "x".repeat(10_000).getBytes(StandardCharsets.US_ASCII);
        out.writeString(big, 0, big.length);
        assertThat(out.size()).isEqualTo(10_002);
        out.reset();
        out.writeNull();
        assertThat(out.toByteArray()).isEqualTo("null".getBytes(StandardCharsets.US_ASCII));
    }
}
