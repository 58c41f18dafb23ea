#!/bin/sh
# clusterlab: services in a node are started by the clusterlab supervisor, never by package scripts.
exit 101
