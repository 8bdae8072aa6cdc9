package io.pgrelay.agent.schema;

import io.pgrelay.agent.event.BuiltinTypes;
import io.pgrelay.agent.pgoutput.Relation;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SchemaChangeTest {

    private static final int INT4 = 23;
    private static final int INT8 = 20;
    private static final int TEXT = 25;
    private static final int VARCHAR = 1043;

    private static TableSchema shape(char identity, Relation.Column... columns) {
        return TableSchema.of(new Relation(16385, "public", "orders", identity, List.of(columns)), BuiltinTypes.CATALOG);
    }

    private static TableSchema shape(Relation.Column... columns) {
        return shape(Relation.IDENTITY_DEFAULT, columns);
    }

    private static Relation.Column key(String name, int oid) {
        return new Relation.Column(true, name, oid, -1);
    }

    private static Relation.Column col(String name, int oid) {
        return new Relation.Column(false, name, oid, -1);
    }

    @Test
    void aRelationGivesTheShapeWithTypeNames() {
        TableSchema s = shape(key("id", INT4), new Relation.Column(false, "note", VARCHAR, 24));
        assertThat(s.table()).isEqualTo("public.orders");
        assertThat(s.columns()).containsExactly(
                new TableSchema.Column("id", "int4", INT4, -1, true),
                new TableSchema.Column("note", "varchar", VARCHAR, 24, false));
        assertThat(s.replicaIdentityName()).isEqualTo("default");
    }

    @Test
    void theSameColumnsAreTheSameShapeEvenWhenATypeNameReadsDifferently() {
        TableSchema a = shape(key("id", INT4), col("v", TEXT));
        TableSchema b = new TableSchema("public.orders", 'd', List.of(
                new TableSchema.Column("id", "oid 23", INT4, -1, true), new TableSchema.Column("v", "text", TEXT, -1, false)));
        assertThat(a.sameShapeAs(b)).isTrue();
        assertThat(a.sameShapeAs(null)).isFalse();
        assertThat(SchemaChange.between(a, b)).isEmpty();
    }

    @Test
    void firstSightHasNoChanges() {
        assertThat(SchemaChange.between(null, shape(key("id", INT4)))).isEmpty();
    }

    @Test
    void anAddedColumnIsAdded() {
        List<SchemaChange> changes = SchemaChange.between(shape(key("id", INT4)), shape(key("id", INT4), col("note", TEXT)));
        assertThat(changes).containsExactly(new SchemaChange("added", "note", null, "text"));
    }

    @Test
    void aDroppedColumnIsDropped() {
        List<SchemaChange> changes = SchemaChange.between(shape(key("id", INT4), col("a", TEXT), col("b", INT4)),
                shape(key("id", INT4), col("b", INT4)));
        assertThat(changes).containsExactly(new SchemaChange("dropped", "a", "a", null));
    }

    @Test
    void aNewNameAtTheSamePlaceWithTheSameTypeIsARename() {
        List<SchemaChange> changes = SchemaChange.between(shape(key("id", INT4), col("a", TEXT), col("b", INT4)),
                shape(key("id", INT4), col("c", TEXT), col("b", INT4)));
        assertThat(changes).containsExactly(new SchemaChange("renamed", "c", "a", "c"));
    }

    @Test
    void aNewNameWithAnotherTypeIsADropAndAnAdd() {
        List<SchemaChange> changes = SchemaChange.between(shape(key("id", INT4), col("a", TEXT)),
                shape(key("id", INT4), col("c", INT8)));
        assertThat(changes).containsExactly(new SchemaChange("dropped", "a", "a", null), new SchemaChange("added", "c", null, "int8"));
    }

    @Test
    void aDropInTheMiddleAndAnAddAtTheEndAreNotMistakenForRenames() {
        List<SchemaChange> changes = SchemaChange.between(shape(key("id", INT4), col("a", TEXT), col("b", TEXT)),
                shape(key("id", INT4), col("b", TEXT), col("c", TEXT)));
        assertThat(changes).containsExactly(new SchemaChange("dropped", "a", "a", null), new SchemaChange("added", "c", null, "text"));
    }

    @Test
    void aNewTypeOrTypmodIsARetype() {
        List<SchemaChange> changes = SchemaChange.between(
                shape(key("id", INT4), new Relation.Column(false, "v", VARCHAR, 14)),
                shape(key("id", INT8), new Relation.Column(false, "v", VARCHAR, 24)));
        assertThat(changes).containsExactly(
                new SchemaChange("retyped", "id", "int4", "int8"),
                new SchemaChange("retyped", "v", "varchar (typmod 14)", "varchar (typmod 24)"));
    }

    @Test
    void replicaIdentityAndKeyFlagsAreChangesToo() {
        List<SchemaChange> changes = SchemaChange.between(shape(key("id", INT4), col("v", TEXT)),
                shape(Relation.IDENTITY_FULL, key("id", INT4), key("v", TEXT)));
        assertThat(changes).containsExactly(new SchemaChange("replicaIdentity", null, "default", "full"),
                new SchemaChange("key", "v", "false", "true"));
        assertThat(shape(key("id", INT4)).sameShapeAs(shape(Relation.IDENTITY_FULL, key("id", INT4)))).isFalse();
    }
}
