"""A ClusterTest whose one worker ("sw") follows the stage_in/collect
contract: stage_worker.py's StageWorker, connected before each test and
stopped after it."""
from harness import ClusterTest


class StagedClusterTest(ClusterTest):
    def setUp(self):
        super().setUp()
        from stage_worker import StageWorker
        self.worker = StageWorker(self.cluster.worker_ep)
        self.worker.start()
        self.cluster.wait_nodes_up(["sw"])

    def tearDown(self):
        self.worker.stop.set()
        self.worker.join(10)
        super().tearDown()
