package io.pgrelay.k8s;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The subset of the Kubernetes (and Prometheus Operator) object schemas that {@code k8s/} uses,
 * field names as the API spells them: a misspelt field ({@code readOnlyRootFileSystem}) is silently
 * dropped by an API server that does not validate strictly, so here it is an error. Types not
 * listed here are not in use; add them with their real field names when they are.
 *
 * <p>A field's type is another type's name, {@code [T]} for a list of T, {@code scalar}, {@code map}
 * (free-form keys, e.g. labels) or {@code any} (not checked).
 */
final class Schema {

    private static final Map<String, Map<String, String>> TYPES = Map.ofEntries(
            type("ObjectMeta", "name scalar", "namespace scalar", "labels map", "annotations map"),
            type("StatefulSet", "apiVersion scalar", "kind scalar", "metadata ObjectMeta", "spec StatefulSetSpec"),
            type("StatefulSetSpec", "serviceName scalar", "replicas scalar", "podManagementPolicy scalar", "updateStrategy any",
                    "selector LabelSelector", "template PodTemplate", "minReadySeconds scalar", "persistentVolumeClaimRetentionPolicy any"),
            type("Deployment", "apiVersion scalar", "kind scalar", "metadata ObjectMeta", "spec DeploymentSpec"),
            type("DeploymentSpec", "replicas scalar", "selector LabelSelector", "template PodTemplate", "strategy any",
                    "minReadySeconds scalar", "revisionHistoryLimit scalar"),
            type("LabelSelector", "matchLabels map", "matchExpressions any"),
            type("PodTemplate", "metadata PodTemplateMeta", "spec PodSpec"),
            type("PodTemplateMeta", "labels map", "annotations map"),
            type("PodSpec", "containers [Container]", "initContainers [Container]", "volumes [Volume]",
                    "securityContext PodSecurityContext", "affinity Affinity", "terminationGracePeriodSeconds scalar",
                    "automountServiceAccountToken scalar", "serviceAccountName scalar", "nodeSelector map", "tolerations any",
                    "topologySpreadConstraints any", "priorityClassName scalar", "imagePullSecrets any"),
            type("PodSecurityContext", "runAsNonRoot scalar", "runAsUser scalar", "runAsGroup scalar", "fsGroup scalar",
                    "fsGroupChangePolicy scalar", "supplementalGroups any", "seccompProfile SeccompProfile"),
            type("SeccompProfile", "type scalar", "localhostProfile scalar"),
            type("Affinity", "podAntiAffinity PodAntiAffinity", "podAffinity PodAntiAffinity", "nodeAffinity any"),
            type("PodAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution [PodAffinityTerm]",
                    "preferredDuringSchedulingIgnoredDuringExecution [WeightedPodAffinityTerm]"),
            type("PodAffinityTerm", "topologyKey scalar", "labelSelector LabelSelector", "namespaces any", "namespaceSelector any"),
            type("WeightedPodAffinityTerm", "weight scalar", "podAffinityTerm PodAffinityTerm"),
            type("Container", "name scalar", "image scalar", "imagePullPolicy scalar", "command [scalar]", "args [scalar]",
                    "ports [ContainerPort]", "env [EnvVar]", "envFrom any", "resources Resources", "startupProbe Probe",
                    "livenessProbe Probe", "readinessProbe Probe", "securityContext SecurityContext",
                    "volumeMounts [VolumeMount]", "workingDir scalar", "lifecycle any"),
            type("ContainerPort", "name scalar", "containerPort scalar", "protocol scalar"),
            type("EnvVar", "name scalar", "value scalar", "valueFrom EnvVarSource"),
            type("EnvVarSource", "secretKeyRef KeyRef", "configMapKeyRef KeyRef", "fieldRef any", "resourceFieldRef any"),
            type("KeyRef", "name scalar", "key scalar", "optional scalar"),
            type("Resources", "requests map", "limits map"),
            type("Probe", "httpGet HTTPGetAction", "exec any", "tcpSocket any", "grpc any", "initialDelaySeconds scalar",
                    "periodSeconds scalar", "timeoutSeconds scalar", "failureThreshold scalar", "successThreshold scalar",
                    "terminationGracePeriodSeconds scalar"),
            type("HTTPGetAction", "path scalar", "port scalar", "scheme scalar", "host scalar", "httpHeaders any"),
            type("SecurityContext", "allowPrivilegeEscalation scalar", "readOnlyRootFilesystem scalar", "runAsNonRoot scalar",
                    "runAsUser scalar", "runAsGroup scalar", "privileged scalar", "capabilities Capabilities",
                    "seccompProfile SeccompProfile"),
            type("Capabilities", "drop [scalar]", "add [scalar]"),
            type("VolumeMount", "name scalar", "mountPath scalar", "readOnly scalar", "subPath scalar"),
            type("Volume", "name scalar", "configMap ConfigMapVolumeSource", "emptyDir EmptyDirVolumeSource", "secret any",
                    "projected any"),
            type("ConfigMapVolumeSource", "name scalar", "items any", "defaultMode scalar", "optional scalar"),
            type("EmptyDirVolumeSource", "sizeLimit scalar", "medium scalar"),
            type("Service", "apiVersion scalar", "kind scalar", "metadata ObjectMeta", "spec ServiceSpec"),
            type("ServiceSpec", "type scalar", "clusterIP scalar", "publishNotReadyAddresses scalar", "selector map",
                    "ports [ServicePort]", "sessionAffinity scalar"),
            type("ServicePort", "name scalar", "port scalar", "targetPort scalar", "protocol scalar", "nodePort scalar",
                    "appProtocol scalar"),
            type("PodDisruptionBudget", "apiVersion scalar", "kind scalar", "metadata ObjectMeta", "spec PodDisruptionBudgetSpec"),
            type("PodDisruptionBudgetSpec", "maxUnavailable scalar", "minAvailable scalar", "selector LabelSelector",
                    "unhealthyPodEvictionPolicy scalar"),
            type("ConfigMap", "apiVersion scalar", "kind scalar", "metadata ObjectMeta", "data map", "binaryData map"),
            type("ServiceMonitor", "apiVersion scalar", "kind scalar", "metadata ObjectMeta", "spec ServiceMonitorSpec"),
            type("ServiceMonitorSpec", "selector LabelSelector", "endpoints [Endpoint]", "namespaceSelector any", "jobLabel scalar"),
            type("Endpoint", "port scalar", "path scalar", "interval scalar", "scrapeTimeout scalar", "scheme scalar",
                    "honorLabels scalar", "relabelings any", "metricRelabelings any", "tlsConfig TLSConfig"),
            // the Prometheus Operator's TLSConfig (SafeTLSConfig plus file paths)
            type("TLSConfig", "ca SecretOrConfigMap", "cert SecretOrConfigMap", "keySecret KeySelector", "serverName scalar",
                    "insecureSkipVerify scalar", "caFile scalar", "certFile scalar", "keyFile scalar"),
            type("SecretOrConfigMap", "secret KeySelector", "configMap KeySelector"),
            type("KeySelector", "name scalar", "key scalar", "optional scalar"),
            type("PrometheusRule", "apiVersion scalar", "kind scalar", "metadata ObjectMeta", "spec PrometheusRuleSpec"),
            type("PrometheusRuleSpec", "groups [RuleGroup]"),
            type("RuleGroup", "name scalar", "interval scalar", "rules [Rule]"),
            type("Rule", "alert scalar", "record scalar", "expr scalar", "for scalar", "labels map", "annotations map"));

    /** Fields without which an object is refused (or useless). */
    private static final Map<String, Set<String>> REQUIRED = Map.ofEntries(
            Map.entry("ObjectMeta", Set.of("name")),
            Map.entry("StatefulSetSpec", Set.of("serviceName", "selector", "template")),
            Map.entry("DeploymentSpec", Set.of("selector", "template")),
            Map.entry("PodSpec", Set.of("containers")),
            Map.entry("Container", Set.of("name", "image")),
            Map.entry("ContainerPort", Set.of("containerPort")),
            Map.entry("EnvVar", Set.of("name")),
            Map.entry("KeyRef", Set.of("name", "key")),
            Map.entry("HTTPGetAction", Set.of("path", "port")),
            Map.entry("VolumeMount", Set.of("name", "mountPath")),
            Map.entry("Volume", Set.of("name")),
            Map.entry("ServicePort", Set.of("port")),
            Map.entry("PodAffinityTerm", Set.of("topologyKey")),
            Map.entry("WeightedPodAffinityTerm", Set.of("weight", "podAffinityTerm")),
            Map.entry("ServiceMonitorSpec", Set.of("selector", "endpoints")),
            Map.entry("RuleGroup", Set.of("name", "rules")),
            Map.entry("Rule", Set.of("expr")));

    private Schema() {
    }

    private static Map.Entry<String, Map<String, String>> type(String name, String... fields) {
        Map<String, String> f = new java.util.HashMap<>();
        for (String field : fields) {
            String[] parts = field.split(" ");
            f.put(parts[0], parts[1]);
        }
        return Map.entry(name, Map.copyOf(f));
    }

    /** Adds a line to {@code problems} for each unknown or missing field of {@code node} as a {@code type}. */
    static void check(String type, JsonNode node, String path, List<String> problems) {
        if (type.equals("any") || type.equals("scalar") && !node.isContainerNode()) {
            return;
        }
        if (type.equals("scalar")) {
            problems.add(path + ": expected a single value, found " + node.getNodeType());
            return;
        }
        if (type.startsWith("[")) {
            if (!node.isArray()) {
                problems.add(path + ": expected a list");
                return;
            }
            for (int i = 0; i < node.size(); i++) {
                check(type.substring(1, type.length() - 1), node.get(i), path + "[" + i + "]", problems);
            }
            return;
        }
        if (!node.isObject()) {
            problems.add(path + ": expected an object (" + type + ")");
            return;
        }
        if (type.equals("map")) {
            return;
        }
        Map<String, String> fields = TYPES.get(type);
        if (fields == null) {
            throw new IllegalStateException("no schema for " + type);
        }
        for (String required : REQUIRED.getOrDefault(type, Set.of())) {
            if (!node.hasNonNull(required) || node.get(required).asText().isEmpty() && !node.get(required).isContainerNode()) {
                problems.add(path + "." + required + ": required (" + type + ")");
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String fieldType = fields.get(e.getKey());
            if (fieldType == null) {
                problems.add(path + "." + e.getKey() + ": unknown field of " + type + " (known: " + new java.util.TreeSet<>(fields.keySet()) + ")");
            } else {
                check(fieldType, e.getValue(), path + "." + e.getKey(), problems);
            }
        }
    }
}
