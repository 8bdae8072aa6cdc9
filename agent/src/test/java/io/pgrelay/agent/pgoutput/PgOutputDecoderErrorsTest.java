package io.pgrelay.agent.pgoutput;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PgOutputDecoderErrorsTest {

    private final PgOutputDecoder decoder = new PgOutputDecoder();

    private static ByteBuffer hex(String hex) {
        return ByteBuffer.wrap(HexFormat.of().parseHex(hex));
    }

    @Test
    void truncatedInsertSaysWhereAndHowMuchIsMissing() {
        // Insert, relation 16398, 'N', 2 columns, 't' length 1 "5", 't' length 4 then only 2 bytes.
        assertThatThrownBy(() -> decoder.decode(hex("490000400e4e000274000000013574000000046669")))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("Insert message truncated: expected 4 more bytes at offset 19, got 2");
    }

    @Test
    void everyTruncationOfARealMessageFailsClearly() {
        byte[] full = CapturedMessages.read("insert.hex").get(2).bytes();
        for (int cut = 1; cut < full.length; cut++) {
            ByteBuffer part = ByteBuffer.wrap(Arrays.copyOf(full, cut));
            assertThatThrownBy(() -> decoder.decode(part))
                    .isInstanceOf(PgOutputException.class)
                    .hasMessageStartingWith("Relation message truncated");
        }
    }

    @Test
    void unknownMessageTypeIsNamed() {
        assertThatThrownBy(() -> decoder.decode(hex("5300000001")))
                .isInstanceOf(PgOutputException.class)
                .hasMessageStartingWith("unknown pgoutput message type 'S' (0x53) at offset 0");
    }

    @Test
    void emptyBufferIsTruncated() {
        assertThatThrownBy(() -> decoder.decode(ByteBuffer.allocate(0)))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("pgoutput message truncated: expected 1 more bytes at offset 0, got 0");
    }

    @Test
    void unknownTupleColumnKindIsRejected() {
        assertThatThrownBy(() -> decoder.decode(hex("490000400e4e0001780000")))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("Insert message has column 1 of 1 of unknown kind 'x' (0x78) at offset 8; expected 'n', 'u', 't' or 'b'");
    }

    @Test
    void missingNewTupleMarkerIsRejected() {
        assertThatThrownBy(() -> decoder.decode(hex("490000400e4b00016e")))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("Insert message has 'K' (0x4b) at offset 5 where 'N' (new tuple) was expected");
    }

    @Test
    void trailingBytesAreRejected() {
        assertThatThrownBy(() -> decoder.decode(hex("490000400e4e00016eff")))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("Insert message has 1 unexpected trailing bytes at offset 9");
    }

    @Test
    void stringWithoutNulIsTruncated() {
        assertThatThrownBy(() -> decoder.decode(hex("59000040017075626c6963")))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("Type message truncated: string at offset 5 has no terminating NUL before the end (11 bytes)");
    }

    @Test
    void negativeValueLengthIsRejected() {
        assertThatThrownBy(() -> decoder.decode(hex("490000400e4e000174ffffff00")))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("Insert message has a negative length -256 at offset 9");
    }

    @Test
    void hugeTruncateCountFailsWithoutAllocating() {
        assertThatThrownBy(() -> decoder.decode(hex("547fffffff00")))
                .isInstanceOf(PgOutputException.class)
                .hasMessage("Truncate message truncated: expected 8589934588 more bytes at offset 6, got 0");
    }
}
