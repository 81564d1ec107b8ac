from beffroi.cli import main

main()
