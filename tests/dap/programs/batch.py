"""A list subclass long enough to page, with attributes of its own: named children to page too."""


class Batch(list):
    def __init__(self, items):
        super().__init__(items)
        self.source = "queue"
        self.retries = 2
        self.owner = "ops"
        self.priority = 5

    def total(self):
        return sum(self)


def settle(batch):
    return batch.total() / (batch.retries - 2)


settle(Batch(range(250)))
