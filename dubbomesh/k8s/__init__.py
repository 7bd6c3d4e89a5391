"""The Kubernetes adapter: the only package that imports the kubernetes client."""
