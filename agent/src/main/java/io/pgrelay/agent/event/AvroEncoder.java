package io.pgrelay.agent.event;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgrelay.agent.core.TableId;
import io.pgrelay.agent.pgoutput.Relation;
import io.pgrelay.agent.registry.SchemaRegistryClient;
import org.apache.avro.Schema;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code format: debezium} with {@code serialization: avro}: Debezium's envelope in the Confluent
 * wire format, as Debezium's connector with Confluent's AvroConverter writes it. Subjects follow the
 * topic name ({@code <topic>-key}, {@code <topic>-value}); a table's Avro schemas are made from the
 * Connect schemas that {@link DebeziumEncoder} writes for {@code json-schema}
 * ({@link ConnectAvroSchemas}) and registered before the first row of each new shape of the table,
 * so a consumer never reads an id the registry does not know. Ids are cached per relation and in
 * the {@link SchemaRegistryClient}, so a row costs no request.
 *
 * <p>Each row's payload is written by the {@link DebeziumEncoder} (the JSON of
 * {@code serialization: json}) and re-encoded as Avro binary ({@link AvroPayloadWriter}): one type
 * mapping for every serialization.
 *
 * <p>Single-threaded: one encoder per pipeline thread.
 */
public final class AvroEncoder implements RowEncoder {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final DebeziumEncoder payloads;
    private final Registrar registry;
    private final Function<TableId, String> topicOf;
    private final Map<Integer, Shape> shapes = new HashMap<>();
    private final AvroPayloadWriter writer = new AvroPayloadWriter();

    /**
     * Registers a schema under a subject and answers its id: {@link SchemaRegistryClient#register}.
     * It throws what the registry's failures are (see there), and the row waits.
     */
    @FunctionalInterface
    public interface Registrar {
        int register(String subject, String schema, String context);
    }

    /**
     * @param payloads a DebeziumEncoder without schemas: it writes the payloads this encoder re-encodes
     * @param registry {@code SchemaRegistryClient::register}
     */
    public AvroEncoder(DebeziumEncoder payloads, Registrar registry, Function<TableId, String> topicOf) {
        this.payloads = payloads;
        this.registry = registry;
        this.topicOf = topicOf;
    }

    @Override
    public TypeCatalog types() {
        return payloads.types();
    }

    @Override
    public void setPrimaryKey(TableId table, List<String> columns) {
        payloads.setPrimaryKey(table, columns);
        shapes.values().removeIf(s -> s.relation.tableId().equals(table));
    }

    @Override
    public void register(Relation relation) {
        payloads.register(relation);   // a shape is kept while the relation is equal: PostgreSQL resends it every session
    }

    @Override
    public boolean writes(Op op) {
        return payloads.writes(op);
    }

    @Override
    public byte[] key(ChangeEvent event) {
        byte[] payload = payloads.key(event);
        if (payload == null) {
            return null;
        }
        Shape shape = shapeFor(event);
        return writer.write(shape.keyId, shape.keySchema, payload);
    }

    @Override
    public byte[] value(ChangeEvent event) {
        byte[] payload = payloads.value(event);
        Shape shape = shapeFor(event);
        return writer.write(shape.valueId, shape.valueSchema, payload);
    }

    /** The relation's Avro schemas and ids, registered now if this is the first row of its shape. */
    private Shape shapeFor(ChangeEvent event) {
        Relation relation = event.relation();
        Shape shape = shapes.get(relation.relationId());
        if (shape != null && (shape.relation == relation || shape.relation.equals(relation))) {
            return shape;
        }
        DebeziumEncoder.ConnectSchemas connect = payloads.connectSchemas(relation);
        String topic = topicOf.apply(relation.tableId());
        String context = "the first row of " + relation.tableId() + " in this shape, at LSN " + event.lsn();
        Schema keySchema = connect.key() == null ? null : avro(connect.key(), relation);
        Schema valueSchema = avro(connect.value(), relation);
        int keyId = keySchema == null ? -1 : registry.register(topic + "-key", keySchema.toString(), context);
        int valueId = registry.register(topic + "-value", valueSchema.toString(), context);
        shape = new Shape(relation, keySchema, keyId, valueSchema, valueId);
        shapes.put(relation.relationId(), shape);
        return shape;
    }

    private static Schema avro(String connectSchema, Relation relation) {
        try {
            return ConnectAvroSchemas.of(JSON.readTree(connectSchema));
        } catch (IOException e) {
            throw new UncheckedIOException("the Connect schema of " + relation.tableId() + " is not JSON", e);
        } catch (RuntimeException e) {
            throw new EventEncodingException("no Avro schema for " + relation.tableId() + ": " + e.getMessage());
        }
    }

    /** One shape of a table: its Avro schemas and the ids the registry gave them. */
    private record Shape(Relation relation, Schema keySchema, int keyId, Schema valueSchema, int valueId) {
    }
}
