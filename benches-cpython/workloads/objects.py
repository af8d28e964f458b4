"""Object-heavy: a Richards-style operating-system simulation.

A scheduler runs a ring of task objects (idle, worker, handler and device tasks, one
class each, sharing a base class) that pass packet objects to each other through
linked-list queues. Stresses attribute access, method calls on small objects,
isinstance-free polymorphic dispatch and object allocation.
"""

IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(6)
KIND_DEVICE, KIND_WORK = 0, 1
BUFFER_SIZE = 4


class Packet:
    __slots__ = ("link", "ident", "kind", "count", "data")

    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.count = 0
        self.data = [0] * BUFFER_SIZE

    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        tail = queue
        while tail.link is not None:
            tail = tail.link
        tail.link = self
        return queue


class Task:
    def __init__(self, scheduler, ident, priority, queue):
        self.scheduler = scheduler
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.waiting = True
        self.held = False
        self.next = scheduler.tasks
        scheduler.tasks = self
        scheduler.table[ident] = self

    def runnable(self):
        return not self.held and (not self.waiting or self.queue is not None)

    def take_packet(self):
        packet = self.queue
        if packet is None:
            return None
        self.queue = packet.link
        self.waiting = False
        return packet

    def hold(self):
        self.scheduler.holds += 1
        self.held = True
        return self.next

    def release(self, ident):
        task = self.scheduler.table[ident]
        task.held = False
        return task if task.priority > self.priority else self

    def wait(self):
        self.waiting = True
        return self

    def send(self, packet, ident):
        self.scheduler.sends += 1
        target = self.scheduler.table[ident]
        packet.link = None
        packet.ident = self.ident
        if target.queue is None:
            target.queue = packet
            if target.priority > self.priority:
                return target
        else:
            target.queue = packet.append_to(target.queue)
        return self


class IdleTask(Task):
    def __init__(self, scheduler, ident, priority, count):
        super().__init__(scheduler, ident, priority, None)
        self.waiting = False
        self.seed = 1
        self.count = count

    def step(self, packet):
        self.count -= 1
        if self.count == 0:
            return self.hold()
        if self.seed & 1 == 0:
            self.seed >>= 1
            return self.release(DEVICE_A)
        self.seed = (self.seed >> 1) ^ 0xD008
        return self.release(DEVICE_B)


class WorkerTask(Task):
    def __init__(self, scheduler, ident, priority, queue):
        super().__init__(scheduler, ident, priority, queue)
        self.destination = HANDLER_A
        self.letter = 0

    def step(self, packet):
        if packet is None:
            return self.wait()
        self.destination = HANDLER_B if self.destination == HANDLER_A else HANDLER_A
        packet.ident = self.destination
        packet.count = 0
        for i in range(BUFFER_SIZE):
            self.letter += 1
            if self.letter > 26:
                self.letter = 1
            packet.data[i] = self.letter
        return self.send(packet, self.destination)


class HandlerTask(Task):
    def __init__(self, scheduler, ident, priority, queue):
        super().__init__(scheduler, ident, priority, queue)
        self.work = None
        self.devices = None

    def step(self, packet):
        if packet is not None:
            if packet.kind == KIND_WORK:
                self.work = packet.append_to(self.work)
            else:
                self.devices = packet.append_to(self.devices)
        work = self.work
        if work is not None:
            count = work.count
            if count < BUFFER_SIZE:
                device = self.devices
                if device is not None:
                    self.devices = device.link
                    device.count = work.data[count]
                    work.count = count + 1
                    return self.send(device, device.ident)
            else:
                self.work = work.link
                return self.send(work, work.ident)
        return self.wait()


class DeviceTask(Task):
    def __init__(self, scheduler, ident, priority):
        super().__init__(scheduler, ident, priority, None)
        self.pending = None

    def step(self, packet):
        if packet is None:
            pending = self.pending
            if pending is None:
                return self.wait()
            self.pending = None
            return self.send(pending, pending.ident)
        self.pending = packet
        self.scheduler.checksum = (self.scheduler.checksum * 31 + packet.count) % 1000003
        return self.hold()


class Scheduler:
    def __init__(self):
        self.tasks = None
        self.table = [None] * 6
        self.holds = 0
        self.sends = 0
        self.checksum = 0

    def run(self):
        task = self.tasks
        while task is not None:
            if task.runnable():
                task = task.step(task.take_packet())
            else:
                task = task.next


def simulate(count):
    s = Scheduler()
    IdleTask(s, IDLE, 0, count)
    work = Packet(None, WORKER, KIND_WORK)
    work = Packet(work, WORKER, KIND_WORK)
    WorkerTask(s, WORKER, 1000, work)
    for handler, device in ((HANDLER_A, DEVICE_A), (HANDLER_B, DEVICE_B)):
        queue = Packet(None, device, KIND_DEVICE)
        queue = Packet(queue, device, KIND_DEVICE)
        queue = Packet(queue, device, KIND_DEVICE)
        HandlerTask(s, handler, 2000 + handler, queue)
    DeviceTask(s, DEVICE_A, 4000)
    DeviceTask(s, DEVICE_B, 5000)
    s.run()
    return s.holds, s.sends, s.checksum


total = [0, 0, 0]
for count in (3000, 4000):
    holds, sends, checksum = simulate(count)
    total[0] += holds
    total[1] += sends
    total[2] = (total[2] * 7 + checksum) % 1000003
print("objects", *total)
