"""In-cluster mode switched on by a reserved variable: reads the service-account token to watch its
config maps. It never connects anywhere: it fails reading the token first."""

import os
from pathlib import Path

from agent import serve

TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")

if __name__ == "__main__":
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        print("KUBERNETES_SERVICE_HOST is set: in-cluster mode, loading the service-account token", flush=True)
        token = TOKEN.read_text().strip()
    serve()
