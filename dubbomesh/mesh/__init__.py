"""Pure translation of the catalog into Istio intent (ServiceEntry/WorkloadEntry as plain data)."""
