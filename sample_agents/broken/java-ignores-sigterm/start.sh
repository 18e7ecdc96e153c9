#!/bin/sh
# The usual JVM start script: options from the environment, then java. The defect: no `exec`.
# sh stays PID 1 and java its child; sh has no SIGTERM handler (so, as PID 1, ignores it) and does
# not forward it, so the JVM's shutdown hook never runs and the platform kills the pod at the deadline.
JAVA_OPTS="${JAVA_OPTS:--XX:-UsePerfData}"
java $JAVA_OPTS -jar /app/agent.jar
echo "agent exited with code $?"
