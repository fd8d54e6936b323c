"""Solutions and table maps as code: the TOML format, its loader and validator, and transforms.

A solution file (the shipped ones are in `solutions/`; inline tables and [[maps.fields]]
sections are the same TOML)::

    [solution]
    name = "Customers"
    version = "1.0.0"                  # semantic versioning
    publisher = "Contoso"
    requires = ["Dual-write core"]     # solutions whose maps these maps look up

    [[maps]]
    name = "Customers V3 (accounts)"
    fo = "customersv3"                 # F&O entity
    dataverse = "account"              # Dataverse table
    master = "fo"                      # initial sync source and tie-breaker (default fo)
    key = [{ fo = "customeraccount", dataverse = "accountnumber" }]   # plus the company
    filters.fo = [{ column = "partytype", op = "=", value = "Organization" }]   # AND-ed
    filters.dataverse = [{ column = "statecode", op = "in", value = [0] }]

    [maps.company]                     # dataareaid <-> company lookup, via the company map
    fo = "dataareaid"
    dataverse = "msdyn_company"
    map = "Legal entities (cdm_companies)"

    [[maps.fields]]
    fo = "organizationname"
    dataverse = "name"
    direction = "<->"                  # -> (F&O to Dataverse), <-, <-> (the default)

    [[maps.fields]]
    fo = "creditlimit"
    dataverse = "creditlimit"
    default = 0                        # written when the source value is NULL

    [[maps.fields]]
    fo = "onholdstatus"
    dataverse = "creditonhold"
    values = { pairs = [["No", false], ["Yes", true]], default_dataverse = true }

    [[maps.lookups]]                   # a GUID resolved through another map: a dependency
    fo = "customergroupid"
    dataverse = "msdyn_customergroupid"
    map = "Customer groups (msdyn_customergroups)"

Filter operators: = != < <= > >= in is_null not_null.
"""

from dualwrite.maps.defaults import default_solution_texts, default_solutions
from dualwrite.maps.fitting import fit_warnings
from dualwrite.maps.loader import load_solution, load_solution_text
from dualwrite.maps.model import (
    Direction,
    FieldMap,
    Filter,
    Lookup,
    Solution,
    TableMap,
    ValueMap,
)
from dualwrite.maps.order import dependency_order, find_cycles, with_dependencies
from dualwrite.maps.transforms import LookupNeed, matches_filters, to_dataverse, to_fo
from dualwrite.maps.validate import validate

__all__ = [
    "Direction",
    "FieldMap",
    "Filter",
    "Lookup",
    "LookupNeed",
    "Solution",
    "TableMap",
    "ValueMap",
    "default_solution_texts",
    "default_solutions",
    "dependency_order",
    "find_cycles",
    "fit_warnings",
    "load_solution",
    "load_solution_text",
    "matches_filters",
    "to_dataverse",
    "to_fo",
    "validate",
    "with_dependencies",
]
