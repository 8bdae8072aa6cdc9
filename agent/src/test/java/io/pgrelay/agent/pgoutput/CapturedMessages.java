package io.pgrelay.agent.pgoutput;

import io.pgrelay.agent.core.Lsn;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Reads the {@code pgoutput/*.hex} files written by {@link CapturePgOutput}. */
public final class CapturedMessages {

    /** One message as captured, with the LSN and xid the SQL interface reported next to it. */
    public record Captured(Lsn lsn, long xid, byte[] bytes) {
        public ByteBuffer buffer() {
            return ByteBuffer.wrap(bytes);
        }
    }

    private CapturedMessages() {
    }

    public static List<Captured> read(String file) {
        try (InputStream in = CapturedMessages.class.getResourceAsStream("/pgoutput/" + file)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource pgoutput/" + file);
            }
            List<Captured> messages = new ArrayList<>();
            Lsn lsn = null;
            long xid = 0;
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("# lsn ")) {
                    String[] parts = line.split(" ");
                    lsn = Lsn.parse(parts[2]);
                    xid = Long.parseLong(parts[4]);
                } else if (!line.isBlank()) {
                    messages.add(new Captured(lsn, xid, HexFormat.of().parseHex(line.strip())));
                }
            }
            return messages;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every message of the file, decoded. */
    public static List<PgMessage> decodeAll(String file) {
        PgOutputDecoder decoder = new PgOutputDecoder();
        return read(file).stream().map(c -> decoder.decode(c.buffer())).toList();
    }
}
