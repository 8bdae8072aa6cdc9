/** Agents and the dashboard as child processes: their jar, configuration, HTTP API and a cluster of several. */
package io.pgrelay.sandbox.cluster;
