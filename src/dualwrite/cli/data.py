"""Demo data for data stores: `dualwrite data seed`."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from dualwrite.cli._context import current
from dualwrite.cli._output import done
from dualwrite.cli._progress import progress_bars
from dualwrite.errors import ERR
from dualwrite.lifecycle import environments
from dualwrite.platform import environments as platform
from dualwrite.stores.datastore import legal_entities
from dualwrite.stores.generator import seed_dataverse, seed_fo

app = typer.Typer(help="Generate realistic demo data in a data store.", no_args_is_help=True)


@app.command()
def seed(
    ctx: typer.Context,
    env: Annotated[
        str, typer.Argument(help="F&O environment (or, with --dataverse, Power Platform).")
    ],
    customers: Annotated[int, typer.Option(min=0)] = 1000,
    vendors: Annotated[int, typer.Option(min=0)] = 0,
    products: Annotated[int, typer.Option(min=0)] = 0,
    contacts: Annotated[int, typer.Option(min=0)] = 0,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 42,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000)] = 5000,
    dataverse: Annotated[
        bool, typer.Option("--dataverse", help="Seed a Dataverse: --customers are accounts.")
    ] = False,
) -> None:
    """Stream generated rows into an environment's data store in batches, with progress."""
    with current(ctx).work() as (session, actor):
        if dataverse:
            target = platform.get_environment(session, actor, env)
            if not target.dataverse_url:
                raise ERR.NO_DATAVERSE.error(name=target.name)
            url = target.dataverse_url
        else:
            fo_env = environments.get_environment(session, actor, env)
            environments.require_writable(fo_env)
            url = fo_env.data_store_url
    started = time.perf_counter()
    with progress_bars() as progress:
        if dataverse:
            written = seed_dataverse(
                url,
                accounts=customers,
                vendors=vendors,
                products=products,
                contacts=contacts,
                seed=seed,
                batch_size=batch_size,
                progress=progress,
            )
        else:
            companies = [e.id for e in legal_entities(url)]
            written = seed_fo(
                url,
                legal_entities=companies,
                customers=customers,
                vendors=vendors,
                products=products,
                contacts=contacts,
                seed=seed,
                batch_size=batch_size,
                progress=progress,
            )
    total = sum(written.values())
    elapsed = max(time.perf_counter() - started, 1e-9)
    done(f"Wrote {total:,} rows to {env} in {elapsed:.1f} s ({total / elapsed:,.0f} rows/s).")
