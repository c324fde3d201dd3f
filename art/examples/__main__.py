"""python -m art.examples: draw the example pair again."""
from art.examples import main

main()
