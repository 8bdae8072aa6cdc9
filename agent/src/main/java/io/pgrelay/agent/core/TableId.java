package io.pgrelay.agent.core;

import java.util.ArrayList;
import java.util.List;

/**
 * A table's schema and name, unquoted. {@link #parse} reads SQL syntax ({@code public.orders},
 * {@code "Odd"".Schema"."T 1"}); {@link #toString} gives {@code schema.table} as events show it;
 * {@link #quoted} gives SQL that PostgreSQL accepts.
 */
public record TableId(String schema, String table) {

    public TableId {
        if (schema == null || schema.isEmpty() || table == null || table.isEmpty()) {
            throw new IllegalArgumentException("a table needs a schema and a name");
        }
    }

    /**
     * Parses a SQL name with an optional schema (default {@code public}). Unquoted parts fold to
     * lower case as PostgreSQL folds them; quoted parts keep case, and {@code ""} stands for {@code "}.
     */
    public static TableId parse(String sql) {
        if (sql == null || sql.isBlank()) {
            throw new IllegalArgumentException("empty table name");
        }
        List<String> parts = new ArrayList<>(2);
        StringBuilder part = new StringBuilder();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '"') {
                i++;
                boolean closed = false;
                while (i < n) {
                    char q = sql.charAt(i);
                    if (q == '"') {
                        if (i + 1 < n && sql.charAt(i + 1) == '"') {
                            part.append('"');
                            i += 2;
                            continue;
                        }
                        closed = true;
                        i++;
                        break;
                    }
                    part.append(q);
                    i++;
                }
                if (!closed) {
                    throw new IllegalArgumentException("unterminated quote in table name " + sql);
                }
                if (part.length() == 0) {
                    throw new IllegalArgumentException("empty quoted name in " + sql);
                }
            } else if (c == '.') {
                if (part.length() == 0) {
                    throw new IllegalArgumentException("empty name part in " + sql);
                }
                parts.add(part.toString());
                part.setLength(0);
                i++;
            } else if (Character.isWhitespace(c)) {
                throw new IllegalArgumentException("unquoted space in table name " + sql + "; quote the name as SQL does");
            } else {
                part.append(Character.toLowerCase(c));
                i++;
            }
        }
        if (part.length() == 0) {
            throw new IllegalArgumentException("empty name part in " + sql);
        }
        parts.add(part.toString());
        if (parts.size() == 1) {
            return new TableId("public", parts.get(0));
        }
        if (parts.size() == 2) {
            return new TableId(parts.get(0), parts.get(1));
        }
        throw new IllegalArgumentException("too many dots in table name " + sql + "; expected schema.table");
    }

    /** The name as SQL, each part quoted. */
    public String quoted() {
        return quoteIdent(schema) + "." + quoteIdent(table);
    }

    public static String quoteIdent(String ident) {
        return '"' + ident.replace("\"", "\"\"") + '"';
    }

    @Override
    public String toString() {
        return schema + "." + table;
    }
}
