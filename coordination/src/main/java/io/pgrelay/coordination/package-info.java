/** Leader election (slot race or ZooKeeper), the fencing epoch, the member registry and handover. */
package io.pgrelay.coordination;
