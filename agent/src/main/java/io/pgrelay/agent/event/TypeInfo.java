package io.pgrelay.agent.event;

/**
 * What the encoder needs to know about a PostgreSQL type to map its text output to JSON.
 *
 * @param elementOid for {@link Kind#ARRAY}: the element type, else 0
 * @param baseOid    for {@link Kind#DOMAIN}: the underlying type, else 0
 * @param delimiter  {@code pg_type.typdelim}: separates this type's values inside an array
 *                   literal ({@code ','}, but {@code ';'} for {@code box})
 */
public record TypeInfo(int oid, String name, Kind kind, int elementOid, int baseOid, char delimiter) {

    /** {@code pg_type.typtype}, with arrays told apart from other base types. */
    public enum Kind { BASE, ARRAY, DOMAIN, ENUM, COMPOSITE, RANGE, MULTIRANGE, PSEUDO, UNKNOWN }

    public static TypeInfo base(int oid, String name) {
        return new TypeInfo(oid, name, Kind.BASE, 0, 0, ',');
    }

    public static TypeInfo of(int oid, String name, Kind kind) {
        return new TypeInfo(oid, name, kind, 0, 0, ',');
    }

    public static TypeInfo array(int oid, String name, int elementOid) {
        return new TypeInfo(oid, name, Kind.ARRAY, elementOid, 0, ',');
    }

    public static TypeInfo domain(int oid, String name, int baseOid) {
        return new TypeInfo(oid, name, Kind.DOMAIN, 0, baseOid, ',');
    }

    /** A type nobody could describe; its values are passed on as PostgreSQL's text form. */
    public static TypeInfo unknown(int oid) {
        return new TypeInfo(oid, "oid " + oid, Kind.UNKNOWN, 0, 0, ',');
    }

    public TypeInfo withDelimiter(char delimiter) {
        return new TypeInfo(oid, name, kind, elementOid, baseOid, delimiter);
    }
}
