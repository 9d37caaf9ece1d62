from bir.cli import main

main()
