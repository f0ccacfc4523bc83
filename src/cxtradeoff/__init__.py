"""cxtradeoff: does AI in customer service pay once lost customers are counted?"""

__version__ = "0.1.0"
