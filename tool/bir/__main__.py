from bir.cli import run

run()
