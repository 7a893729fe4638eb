"""A price list whose keys are French: the failing division comes after non-ASCII text on its line."""


def unit_price(prices, item):
    return "prix: " + str(prices["café"] / prices[item])


unit_price({"café": 3.5, "thé": 0}, "thé")
