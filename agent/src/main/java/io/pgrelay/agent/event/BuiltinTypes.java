package io.pgrelay.agent.event;

import io.pgrelay.agent.event.TypeInfo.Kind;

import java.util.HashMap;
import java.util.Map;

/**
 * The types every PostgreSQL database has (OIDs below 16384), with their array types, as listed
 * in PostgreSQL's {@code src/include/catalog/pg_type.dat} (PostgreSQL 14 to 17). Built-in OIDs
 * never change between versions, so this table needs no connection.
 */
public final class BuiltinTypes {

    /** Below this OID every object is built in ({@code FirstNormalObjectId}). */
    public static final int FIRST_USER_OID = 16384;

    /** A catalog of the built-in types only; any other OID is {@link Kind#UNKNOWN}. */
    public static final TypeCatalog CATALOG = BuiltinTypes::type;

    public static final int BOOL = 16;
    public static final int BYTEA = 17;
    public static final int INT8 = 20;
    public static final int INT2 = 21;
    public static final int INT4 = 23;
    public static final int TEXT = 25;
    public static final int OID = 26;
    public static final int JSON = 114;
    public static final int FLOAT4 = 700;
    public static final int FLOAT8 = 701;
    public static final int DATE = 1082;
    public static final int TIMESTAMP = 1114;
    public static final int TIMESTAMPTZ = 1184;
    public static final int NUMERIC = 1700;
    public static final int JSONB = 3802;

    private static final Map<Integer, TypeInfo> TYPES = new HashMap<>(512);

    static {
        // oid, name, array type oid (0: none)
        base(16, "bool", 1000);
        base(17, "bytea", 1001);
        base(18, "char", 1002);
        base(19, "name", 1003);
        base(20, "int8", 1016);
        base(21, "int2", 1005);
        base(22, "int2vector", 1006);   // text form "1 2 3", not an array literal
        base(23, "int4", 1007);
        base(24, "regproc", 1008);
        base(25, "text", 1009);
        base(26, "oid", 1028);
        base(27, "tid", 1010);
        base(28, "xid", 1011);
        base(29, "cid", 1012);
        base(30, "oidvector", 1013);    // text form "1 2 3", not an array literal
        add(Kind.COMPOSITE, 71, "pg_type", 210);
        add(Kind.COMPOSITE, 75, "pg_attribute", 270);
        add(Kind.COMPOSITE, 81, "pg_proc", 272);
        add(Kind.COMPOSITE, 83, "pg_class", 273);
        base(114, "json", 199);
        base(142, "xml", 143);
        base(194, "pg_node_tree", 0);
        base(3361, "pg_ndistinct", 0);
        base(3402, "pg_dependencies", 0);
        base(5017, "pg_mcv_list", 0);
        base(5069, "xid8", 271);
        base(600, "point", 1017);
        base(601, "lseg", 1018);
        base(602, "path", 1019);
        TYPES.put(603, TypeInfo.base(603, "box").withDelimiter(';'));
        TYPES.put(1020, TypeInfo.array(1020, "_box", 603).withDelimiter(';'));   // typdelim as pg_type has it
        base(604, "polygon", 1027);
        base(628, "line", 629);
        base(700, "float4", 1021);
        base(701, "float8", 1022);
        base(718, "circle", 719);
        base(790, "money", 791);
        base(829, "macaddr", 1040);
        base(869, "inet", 1041);
        base(650, "cidr", 651);
        base(774, "macaddr8", 775);
        base(1033, "aclitem", 1034);
        base(1042, "bpchar", 1014);
        base(1043, "varchar", 1015);
        base(1082, "date", 1182);
        base(1083, "time", 1183);
        base(1114, "timestamp", 1115);
        base(1184, "timestamptz", 1185);
        base(1186, "interval", 1187);
        base(1266, "timetz", 1270);
        base(1560, "bit", 1561);
        base(1562, "varbit", 1563);
        base(1700, "numeric", 1231);
        base(1790, "refcursor", 2201);
        base(2202, "regprocedure", 2207);
        base(2203, "regoper", 2208);
        base(2204, "regoperator", 2209);
        base(2205, "regclass", 2210);
        base(4191, "regcollation", 4192);
        base(2206, "regtype", 2211);
        base(4096, "regrole", 4097);
        base(4089, "regnamespace", 4090);
        base(2950, "uuid", 2951);
        base(3220, "pg_lsn", 3221);
        base(3614, "tsvector", 3643);
        base(3642, "gtsvector", 3644);
        base(3615, "tsquery", 3645);
        base(3734, "regconfig", 3735);
        base(3769, "regdictionary", 3770);
        base(3802, "jsonb", 3807);
        base(4072, "jsonpath", 4073);
        base(2970, "txid_snapshot", 2949);
        base(5038, "pg_snapshot", 5039);
        add(Kind.RANGE, 3904, "int4range", 3905);
        add(Kind.RANGE, 3906, "numrange", 3907);
        add(Kind.RANGE, 3908, "tsrange", 3909);
        add(Kind.RANGE, 3910, "tstzrange", 3911);
        add(Kind.RANGE, 3912, "daterange", 3913);
        add(Kind.RANGE, 3926, "int8range", 3927);
        add(Kind.MULTIRANGE, 4451, "int4multirange", 6150);
        add(Kind.MULTIRANGE, 4532, "nummultirange", 6151);
        add(Kind.MULTIRANGE, 4533, "tsmultirange", 6152);
        add(Kind.MULTIRANGE, 4534, "tstzmultirange", 6153);
        add(Kind.MULTIRANGE, 4535, "datemultirange", 6155);
        add(Kind.MULTIRANGE, 4536, "int8multirange", 6157);
        base(4600, "pg_brin_bloom_summary", 0);
        base(4601, "pg_brin_minmax_multi_summary", 0);
        add(Kind.PSEUDO, 2249, "record", 2287);
        add(Kind.PSEUDO, 2275, "cstring", 1263);
        add(Kind.PSEUDO, 705, "unknown", 0);
    }

    private BuiltinTypes() {
    }

    /** The built-in type with this OID, or {@link Kind#UNKNOWN}. */
    public static TypeInfo type(int oid) {
        TypeInfo type = TYPES.get(oid);
        return type != null ? type : TypeInfo.unknown(oid);
    }

    public static boolean isBuiltin(int oid) {
        return oid > 0 && oid < FIRST_USER_OID;
    }

    private static void base(int oid, String name, int arrayOid) {
        add(Kind.BASE, oid, name, arrayOid);
    }

    private static void add(Kind kind, int oid, String name, int arrayOid) {
        TYPES.put(oid, TypeInfo.of(oid, name, kind));
        if (arrayOid != 0) {
            array(arrayOid, "_" + name, oid);
        }
    }

    private static void array(int oid, String name, int elementOid) {
        TYPES.put(oid, TypeInfo.array(oid, name, elementOid));
    }
}
