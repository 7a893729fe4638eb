"""A coroutine three awaits deep raises, under asyncio.run, with asyncio's objects around it."""
import asyncio


async def leaf(n):
    data = {"n": n}
    await asyncio.sleep(0)
    raise ValueError("bad %d" % n)


async def middle(n):
    step = n * 2
    return await leaf(step)


async def main():
    queue = asyncio.Queue()
    queue.put_nowait("job")
    ready = asyncio.Event()
    lock = asyncio.Lock()
    await lock.acquire()
    slots = asyncio.Semaphore(2)
    answer = asyncio.get_running_loop().create_future()
    await middle(3)


asyncio.run(main())
