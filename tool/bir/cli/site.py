"""`bir site build` and `bir site serve`: the published register."""

from __future__ import annotations

from pathlib import Path

import click

from bir.cli import cli, resolve_root, root_option

SITE_PACKAGES = ("mkdocs", "material", "jinja2", "markupsafe")  # import names of the `site` extra's packages


@cli.group("site")
def site_group() -> None:
    """Build or serve the published register (a static MkDocs + Material site).

    Needs the `site` extra: pip install 'bir[site]'.
    """


def require_site_packages() -> None:
    """A usage error naming the install command when the `site` extra is not installed."""
    import importlib.util

    missing = [name for name in SITE_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        from bir.base.problems import UsageError

        raise UsageError(f"the site needs packages that are not installed ({', '.join(missing)}): install bir with its "
                         "site extra, e.g. `pip install 'bir[site]'` (from a clone: `pip install '.[site]'`)")


@site_group.command("build")
@root_option
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: <register>/site/build); replaced only when the build succeeds.",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="DATE",
    help="Build the site of the register as it stood at the end of DATE (YYYY-MM-DD), from git history.",
)
@click.option("--quiet", is_flag=True, help="Print only the result line.")
def build_cmd(root: Path | None, out: Path | None, as_of: str | None, quiet: bool) -> int:
    """Build the site: dashboard, reports, one page per record, kind and service, search and downloads."""
    require_site_packages()
    from bir.site.build import build_site

    register_root = resolve_root(root)
    target = out if out is not None else register_root / "site" / "build"
    result = build_site(register_root, target, as_of, log=None if quiet else (lambda m: click.echo(m, err=True)))
    click.echo(
        f"built {result.pages} pages for {result.records} records in {result.seconds:.1f} s: open {result.out / 'index.html'}"
    )
    return 0


@site_group.command("serve")
@root_option
@click.option("--port", type=click.IntRange(0, 65535), default=8000, help="Port on 127.0.0.1 (default 8000).")
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to build (default: <register>/site/build).",
)
def serve_cmd(root: Path | None, port: int, out: Path | None) -> int:
    """Build the site, serve it on 127.0.0.1, and rebuild when a record, schema or bir.yaml changes."""
    require_site_packages()
    from bir.site.serve import serve

    register_root = resolve_root(root)
    serve(
        register_root, out if out is not None else register_root / "site" / "build", port, log=lambda m: click.echo(m, err=True)
    )
    return 0
