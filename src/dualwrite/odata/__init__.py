"""OData v4 core shared by the environment APIs (Dataverse Web API, finance and operations OData):
the entity model built from SQLAlchemy tables, system query options, `$filter` compiled to SQL,
key predicates, server paging tokens, ETags, values to and from JSON, CSDL `$metadata`, `$batch`
bodies. Pure where it can be: nothing here knows about routes, tenants or who calls."""
