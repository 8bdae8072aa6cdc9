package io.pgrelay.agent.pipeline;

import io.pgrelay.agent.config.SnapshotConfig;
import io.pgrelay.agent.route.TopicNames;

import java.time.Duration;
import java.util.List;

/** Settings of one pipeline, taken from the agent's configuration. */
public record PipelineSettings(String slot, String agentId, Duration statusInterval, Duration commitInterval,
                               long commitMaxBytes, Duration idleCommitDelay, boolean tombstones,
                               boolean skipOversized, String deadLetterTopic,
                               TopicNames topics,
                               List<String> initialTopics, String cluster, String schemaTopic,
                               String publication, SnapshotConfig.Mode snapshotMode,
                               int snapshotChunkSize) {
}
