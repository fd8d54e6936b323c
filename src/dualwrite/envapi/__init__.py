"""The environment APIs: each environment's data store served as the platform serves it —
the Dataverse Web API for Power Platform environments, finance and operations OData for F&O
environments — over the OData core (`dualwrite.odata`), with one write path per side
(`writes.py`), one authentication dependency (`deps.py`) and one authorization service
(`access.py`)."""
