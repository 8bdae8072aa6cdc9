/**
 * Change events and their Kafka encoding (DESIGN.md, "Kafka records").
 *
 * <p>Decisions worth knowing:
 * <ul>
 *   <li>{@link io.pgrelay.agent.event.ChangeEvent#committedAtMicros()} counts from the Unix epoch;
 *       pgoutput's times count from 2000-01-01 — convert with {@code ChangeEvent.unixMicros}.</li>
 *   <li>An event's {@code before} tuple is read as the whole old row when its relation has
 *       REPLICA IDENTITY FULL, else as the old key: exactly when pgoutput sends 'O' and 'K'.</li>
 *   <li>Under REPLICA IDENTITY FULL, the event key is the primary key given to
 *       {@link io.pgrelay.agent.event.EventEncoder#setPrimaryKey}, else every column.</li>
 *   <li>Values arrive in PostgreSQL's text form; the agent's replication connection must use
 *       {@code TimeZone=UTC, DateStyle=ISO, IntervalStyle=postgres, bytea_output=hex}. Another
 *       time zone still encodes correctly (offsets are converted), just more slowly.</li>
 * </ul>
 */
package io.pgrelay.agent.event;
