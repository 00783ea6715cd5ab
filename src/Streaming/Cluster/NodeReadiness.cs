using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace Streaming.Cluster;

/// <summary>
/// Whether this node serves sessions: it is ready once its cluster member is Up and the shard coordinator lists its
/// shard region (sessions can be placed on it and routed from it), and not ready again once it leaves. An actor
/// follows the cluster's events and asks the region until it is listed; callers read <see cref="IsReady"/>.
/// </summary>
internal sealed class NodeReadiness
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile string _reason = "it has not joined its cluster yet";
    private volatile bool _isReady;

    public NodeReadiness(ActorSystem system, IActorRef region, TimeSpan askEvery)
    {
        ((ExtendedActorSystem)system).SystemActorOf(Props.Create(() => new Watch(this, region, askEvery)), "rnn-session-readiness");
    }

    /// <summary>Whether the node serves sessions now.</summary>
    public bool IsReady => _isReady;

    /// <summary>Why it does not, for refusals and logs.</summary>
    public string Reason => _reason;

    /// <summary>Completes the first time the node is ready.</summary>
    public Task WhenReady => _ready.Task;

    private void Ready(string how)
    {
        _reason = how;
        _isReady = true;
        _ready.TrySetResult();
    }

    private void NotReady(string why)
    {
        _isReady = false;
        _reason = why;
    }

    private sealed class Tick
    {
        public static Tick Instance { get; } = new();
    }

    /// <summary>Follows this node's membership; once it is Up, asks the region until the coordinator lists it.</summary>
    private sealed class Watch : ReceiveActor, IWithTimers
    {
        private readonly NodeReadiness _readiness;
        private readonly IActorRef _region;
        private readonly TimeSpan _askEvery;
        private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
        private readonly ILoggingAdapter _log = Context.GetLogger();
        private bool _up;
        private bool _gone;

        public Watch(NodeReadiness readiness, IActorRef region, TimeSpan askEvery)
        {
            _readiness = readiness;
            _region = region;
            _askEvery = askEvery;
            Receive<ClusterEvent.IMemberEvent>(OnMember);
            Receive<ClusterEvent.CurrentClusterState>(state =>
            {
                if (state.Members.FirstOrDefault(m => m.Address == _cluster.SelfAddress) is { } self)
                {
                    OnSelf(self.Status);
                }
            });
            Receive<Tick>(_ => AskRegions());
            Receive<CurrentRegions>(OnRegions);
            Receive<Status.Failure>(_ => { });
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() =>
            _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));

        protected override void PostStop() => _cluster.Unsubscribe(Self);

        private void OnMember(ClusterEvent.IMemberEvent change)
        {
            if (change.Member.Address == _cluster.SelfAddress)
            {
                OnSelf(change.Member.Status);
            }
        }

        private void OnSelf(MemberStatus status)
        {
            if (status == MemberStatus.Up && !_up && !_gone)
            {
                _up = true;
                _readiness.NotReady("it has joined its cluster, but its shard region is not registered yet");
                AskRegions();
                Timers.StartPeriodicTimer("ask", Tick.Instance, _askEvery);
            }
            else if (status is MemberStatus.Leaving or MemberStatus.Exiting or MemberStatus.Down or MemberStatus.Removed && !_gone)
            {
                _gone = true;
                Timers.CancelAll();
                _readiness.NotReady($"it is leaving its cluster (member status {status})");
                _log.Info("Not ready: this node is leaving its cluster (member status {0}); it refuses new session requests with NotReady.", status);
            }
        }

        private void AskRegions()
        {
            if (!_gone)
            {
                _region.Tell(GetCurrentRegions.Instance);
            }
        }

        private void OnRegions(CurrentRegions regions)
        {
            // The coordinator names a region on its own node by that node's address, or by a local address without a host.
            var listed = regions.Regions.Any(a => a == _cluster.SelfAddress || string.IsNullOrEmpty(a.Host));
            if (!listed || _gone || _readiness.IsReady)
            {
                return;
            }

            Timers.Cancel("ask");
            var members = _cluster.State.Members.Count(m => m.Status == MemberStatus.Up);
            var how = $"it is Up in its cluster ({members} member(s) up) and the shard coordinator lists its region ({regions.Regions.Count} region(s))";
            _readiness.Ready(how);
            _log.Info("Ready: this node ({0}) serves sessions: {1}.", _cluster.SelfAddress, how);
        }
    }
}
