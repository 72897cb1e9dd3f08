"""Compose the platform's components from a validated :class:`PlatformConfig`.

The only place that knows both the config model and the components' args. Nothing here
branches on the stack name: everything comes from config.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_azure_native import authorization

from components.cluster.aks import AksCluster, AksClusterArgs, SystemPoolSpec
from components.cluster.defender import DefenderForContainers, DefenderForContainersArgs
from components.cluster.gpu_sizes import gpu_model
from components.cluster.image_policy import AllowedImagesPolicy, AllowedImagesPolicyArgs
from components.cluster.maintenance import (
    AUTO_UPGRADE_SCHEDULE,
    NODE_OS_UPGRADE_SCHEDULE,
    MaintenanceWindowSpec,
)
from components.cluster.node_pools import NodePool, NodePoolArgs
from components.data.data_lake import DataLake
from components.data.db_roles import password_secret_name
from components.data.postgres import PostgresServer
from components.kit.naming import Kind, Namer
from components.kit.shared import RoleAssignmentSpec
from components.mlflow.server import tracking_uri
from components.network.egress import AKS_OUTBOUND_TYPES
from components.network.vnet import Network, NetworkArgs, SubnetSpec
from components.observability.alerts import alert_rule_groups
from components.registry import cache
from components.registry.acr import CacheCredentialSpec, ContainerRegistry, ContainerRegistryArgs
from components.secrets.key_vault import KeyVault
from components.serving.serving import ModelServing
from infra.config import PlatformConfig
from infra.config.cluster import PoolConfig
from infra.config.maintenance import MaintenanceWindowConfig
from infra.data_layer import (
    app_roles,
    build_data_lake,
    build_key_vault,
    build_postgres,
    data_private_dns_zones,
)
from infra.observability import (
    MonitoredResources,
    Observability,
    build_log_analytics,
    build_observability,
    observability_private_dns_zones,
)
from infra.serving import ServingInputs, build_serving
from infra.workflows import BuiltWorkflows, WorkflowInputs, build_workflows, vectors_login
from infra.workloads import WorkloadInputs, Workloads, build_workloads, platform_namespaces

ACR_PRIVATE_DNS_ZONE = "privatelink.azurecr.io"
API_SERVER_DELEGATION = "Microsoft.ContainerService/managedClusters"
POSTGRES_DELEGATION = "Microsoft.DBforPostgreSQL/flexibleServers"
# A flexible server (and its HA standby) archives WAL to Azure Storage; the service endpoint
# keeps that traffic on the Azure backbone even when a route table sends 0.0.0.0/0 elsewhere
# (https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-networking-private).
POSTGRES_SERVICE_ENDPOINTS = ("Microsoft.Storage",)


@dataclass(frozen=True)
class Platform:
    """What the program built, for exports and for later components."""

    network: Network
    cluster: AksCluster
    registry: ContainerRegistry
    node_pools: dict[str, NodePool]
    data_lake: DataLake
    key_vault: KeyVault
    postgres: PostgresServer
    workloads: Workloads
    observability: Observability
    workflows: BuiltWorkflows | None
    serving: ModelServing | None


def private_dns_zones(cfg: PlatformConfig, namer: Namer) -> tuple[str, ...]:
    """The private DNS zones this stack needs (none for what is public)."""
    zones: list[str] = []
    if cfg.registry.private_endpoint_enabled:
        zones.append(ACR_PRIVATE_DNS_ZONE)
    zones += data_private_dns_zones(cfg, namer)
    zones += observability_private_dns_zones(cfg)
    return tuple(zones)


def build_network(
    cfg: PlatformConfig, namer: Namer, tags: dict[str, str], subscription_id: str
) -> Network:
    """Resource group, VNet, subnets and DNS zones."""
    net = cfg.network
    subnets = {
        "nodes": SubnetSpec(
            name=namer.name(Kind.SUBNET, "nodes"),
            address_prefix=str(net.subnets.nodes),
            nsg_name=namer.name(Kind.NETWORK_SECURITY_GROUP, "nodes"),
        ),
        "privateEndpoints": SubnetSpec(
            name=namer.name(Kind.SUBNET, "pep"),
            address_prefix=str(net.subnets.private_endpoints),
            nsg_name=namer.name(Kind.NETWORK_SECURITY_GROUP, "pep"),
        ),
    }
    if net.subnets.api_server is not None:
        subnets["apiServer"] = SubnetSpec(
            name=namer.name(Kind.SUBNET, "apiserver"),
            address_prefix=str(net.subnets.api_server),
            delegation=API_SERVER_DELEGATION,
            # AKS supports an NSG on the delegated API-server subnet as long as nodes reach it
            # on TCP 443/4443 and Azure Load Balancer on 9988; the default rules
            # (AllowVnetInBound, AllowAzureLoadBalancerInBound) admit both
            # (https://learn.microsoft.com/azure/aks/api-server-vnet-integration#nsg-security-rules).
            nsg_name=namer.name(Kind.NETWORK_SECURITY_GROUP, "apiserver"),
        )
    if net.subnets.postgres is not None:
        subnets["postgres"] = SubnetSpec(
            name=namer.name(Kind.SUBNET, "psql"),
            address_prefix=str(net.subnets.postgres),
            delegation=POSTGRES_DELEGATION,
            nsg_name=namer.name(Kind.NETWORK_SECURITY_GROUP, "psql"),
            service_endpoints=POSTGRES_SERVICE_ENDPOINTS,
        )
    return Network(
        "network",
        NetworkArgs(
            location=cfg.location,
            resource_group_name=namer.name(Kind.RESOURCE_GROUP),
            vnet_name=namer.name(Kind.VIRTUAL_NETWORK),
            address_space=str(net.vnet_cidr),
            subscription_id=subscription_id,
            subnets=subnets,
            private_dns_zones=private_dns_zones(cfg, namer),
            peerings=dict(net.peerings),
            egress=net.egress.type,
            zones=list(cfg.cluster.zones),
            nat_gateway_name=namer.name(Kind.NAT_GATEWAY),
            public_ip_name=namer.name(Kind.PUBLIC_IP, "egress"),
            route_table_name=namer.name(Kind.ROUTE_TABLE, "nodes"),
            firewall_private_ip=(
                str(net.egress.firewall_private_ip) if net.egress.firewall_private_ip else None
            ),
            tags=tags,
        ),
    )


def build_cluster(
    cfg: PlatformConfig,
    namer: Namer,
    tags: dict[str, str],
    network: Network,
    tenant_id: pulumi.Input[str],
    *,
    log_analytics_workspace_resource_id: pulumi.Input[str] | None = None,
) -> AksCluster:
    """The managed cluster and its system pool (Container Insights into the workspace)."""
    c = cfg.cluster
    sp = cfg.system_pool
    api_subnet = (
        network.subnet_ids.get("apiServer") if c.api_server.vnet_integration_enabled else None
    )
    return AksCluster(
        "aks",
        AksClusterArgs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            cluster_name=namer.name(Kind.AKS_CLUSTER),
            dns_prefix=namer.name(Kind.AKS_DNS_PREFIX),
            node_resource_group=namer.name(Kind.NODE_RESOURCE_GROUP, "nodes"),
            identity_name=namer.name(Kind.MANAGED_IDENTITY, "aks"),
            kubernetes_version=c.kubernetes_version,
            sku_tier=c.sku_tier,
            tenant_id=tenant_id,
            admin_group_object_ids=[str(g) for g in c.admin_group_object_ids],
            ai_toolchain_operator_enabled=cfg.serving.llm is not None,
            app_routing_internal_enabled=any(m.serving.ingress_enabled for m in cfg.release.models),
            system_pool=SystemPoolSpec(
                name=sp.name,
                vm_size=sp.vm_size,
                min_count=sp.min_count,
                max_count=sp.max_count,
                os_sku=sp.os_sku,
                os_disk_size_gb=sp.os_disk_size_gb,
                max_pods=sp.max_pods,
            ),
            vnet_resource_id=network.resource_id,
            node_subnet_resource_id=network.subnet_ids["nodes"],
            pod_cidr=str(cfg.network.pod_cidr),
            service_cidr=str(cfg.network.service_cidr),
            dns_service_ip=str(cfg.network.dns_service_ip),
            outbound_type=AKS_OUTBOUND_TYPES[cfg.network.egress.type],
            route_table_resource_id=network.route_table_id,
            zones=list(sp.zones if sp.zones is not None else c.zones),
            private_cluster_enabled=c.api_server.private_cluster_enabled,
            authorized_ip_ranges=[str(r) for r in c.api_server.authorized_ip_ranges],
            api_server_subnet_resource_id=api_subnet,
            upgrade_channel=c.upgrade_channel,
            node_os_upgrade_channel=c.node_os_upgrade_channel,
            image_cleaner_interval_hours=c.image_cleaner_interval_hours,
            azure_policy_enabled=c.azure_policy_enabled,
            maintenance_windows=maintenance_windows(cfg),
            private_dns_link_vnet_resource_ids=dict(cfg.network.peerings),
            log_analytics_workspace_resource_id=log_analytics_workspace_resource_id,
            defender_enabled=cfg.security.defender_enabled,
            tags=tags,
        ),
    )


def build_defender(cfg: PlatformConfig, subscription_id: str) -> DefenderForContainers | None:
    """The subscription's Defender for Containers plan (with ``security.defenderEnabled``)."""
    if not cfg.security.defender_enabled:
        return None
    return DefenderForContainers(
        "defender",
        DefenderForContainersArgs(subscription_id=subscription_id, protect=cfg.protect),
    )


def _window(window: MaintenanceWindowConfig) -> MaintenanceWindowSpec:
    return MaintenanceWindowSpec(
        schedule=window.schedule,
        interval=window.interval,
        start_time=window.start_time,
        duration_hours=window.duration_hours,
        utc_offset=window.utc_offset,
        day_of_week=window.day_of_week,
        day_of_month=window.day_of_month,
        not_allowed_dates=[(str(d.start), str(d.end)) for d in window.not_allowed_dates],
    )


def maintenance_windows(cfg: PlatformConfig) -> dict[str, MaintenanceWindowSpec]:
    """The configured windows by AKS maintenance configuration name."""
    m = cfg.cluster.maintenance
    windows: dict[str, MaintenanceWindowSpec] = {}
    if m.auto_upgrade:
        windows[AUTO_UPGRADE_SCHEDULE] = _window(m.auto_upgrade)
    if m.node_os:
        windows[NODE_OS_UPGRADE_SCHEDULE] = _window(m.node_os)
    return windows


def _pool_args(
    cfg: PlatformConfig,
    pool: PoolConfig,
    network: Network,
    cluster: AksCluster,
    tags: dict[str, str],
) -> dict[str, object]:
    return {
        "resource_group_name": network.resource_group_name,
        "cluster_name": cluster.name,
        "pool_name": pool.name,
        "vm_size": pool.vm_size,
        "min_count": pool.min_count,
        "max_count": pool.max_count,
        "node_subnet_resource_id": network.subnet_ids["nodes"],
        "zones": list(pool.zones if pool.zones is not None else cfg.cluster.zones),
        "os_sku": pool.os_sku,
        "os_disk_size_gb": pool.os_disk_size_gb,
        "max_pods": pool.max_pods,
        "labels": pool.labels,
        "tags": tags,
    }


def build_node_pools(
    cfg: PlatformConfig, tags: dict[str, str], network: Network, cluster: AksCluster
) -> dict[str, NodePool]:
    """The CPU user pool and every GPU pool, keyed by pool name.

    Each pool waits for the one before it (CPU pool, then GPU pools in config order): AKS
    rejects a second agent-pool operation on a cluster while one is running.
    """
    specs: list[tuple[PoolConfig, dict[str, object]]] = [
        (cfg.cpu_pool, {"spot_enabled": cfg.cpu_pool.spot})
    ]
    specs += [
        (
            gpu,
            {
                "spot_enabled": gpu.spot,
                "gpu_enabled": True,
                "gpu_model": gpu_model(gpu.vm_size),
                "gpu_driver": gpu.gpu_driver,
                "mig_profile": gpu.mig_profile,
            },
        )
        for gpu in cfg.gpu_pools
    ]
    pools: dict[str, NodePool] = {}
    previous: NodePool | None = None
    for pool, extra in specs:
        previous = pools[pool.name] = NodePool(
            f"pool-{pool.name}",
            NodePoolArgs(**_pool_args(cfg, pool, network, cluster, tags), **extra),  # type: ignore[arg-type]
            opts=pulumi.ResourceOptions(depends_on=[previous] if previous else None),
        )
    return pools


def cache_credentials(cfg: PlatformConfig, key_vault: KeyVault) -> dict[str, CacheCredentialSpec]:
    """The configured credential sets' secrets, in the stack's Key Vault."""
    return {
        host: CacheCredentialSpec(
            key_vault_resource_id=key_vault.resource_id,
            key_vault_uri=key_vault.vault_uri,
            username_secret_name=secrets.username_secret,
            password_secret_name=secrets.password_secret,
        )
        for host, secrets in sorted(cfg.registry.cache_credentials.items())
    }


def image_registry(cfg: PlatformConfig, namer: Namer) -> str | None:
    """The login server third-party images are pulled through; None with the cache off."""
    if not cfg.registry.cache_rules_enabled:
        return None
    return cache.login_server(namer.name(Kind.CONTAINER_REGISTRY))


def build_registry(
    cfg: PlatformConfig,
    namer: Namer,
    tags: dict[str, str],
    network: Network,
    cluster: AksCluster,
    *,
    key_vault: KeyVault,
) -> ContainerRegistry:
    """The registry with AcrPull for the kubelet identity and the artifact cache rules."""
    reg = cfg.registry
    endpoint = (
        network.private_endpoint(ACR_PRIVATE_DNS_ZONE, "registry")
        if reg.private_endpoint_enabled
        else None
    )
    registry_name = namer.name(Kind.CONTAINER_REGISTRY)
    return ContainerRegistry(
        "registry",
        ContainerRegistryArgs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            registry_name=registry_name,
            sku=reg.sku,
            retention_days=reg.retention_days,
            zone_redundancy_enabled=reg.zone_redundancy_enabled,
            cache_upstreams=tuple(reg.cache_upstreams) if reg.cache_rules_enabled else (),
            cache_credentials=cache_credentials(cfg, key_vault),
            private_endpoint=endpoint,
            private_endpoint_name=namer.name(Kind.PRIVATE_ENDPOINT, "acr"),
            role_assignments={
                "kubelet-acrpull": RoleAssignmentSpec(
                    role="AcrPull", principal_id=cluster.kubelet_object_id
                )
            },
            protect=cfg.protect,
            tags=tags,
        ),
    )


def build_platform(cfg: PlatformConfig, stack: str) -> Platform:
    """Every component of the stack."""
    # Resolved once, synchronously: names must be known before resources register, and the
    # subscription makes the default suffix of globally unique names unique per subscription.
    client = authorization.get_client_config()
    namer = Namer(
        workload=cfg.workload,
        stack=stack,
        location=cfg.location,
        subscription_id=client.subscription_id,
        suffix=cfg.name_suffix,
    )
    tags = cfg.tags.as_dict()
    network = build_network(cfg, namer, tags, client.subscription_id)
    # Before the cluster: its Container Insights add-on names the workspace.
    log_analytics = build_log_analytics(cfg, namer, tags, network)
    cluster = build_cluster(
        cfg,
        namer,
        tags,
        network,
        client.tenant_id,
        log_analytics_workspace_resource_id=log_analytics.resource_id,
    )
    pools = build_node_pools(cfg, tags, network, cluster)
    build_defender(cfg, client.subscription_id)
    data_lake = build_data_lake(cfg, namer, tags, network)
    postgres, postgres_secrets = build_postgres(cfg, namer, tags, network, client.tenant_id)
    key_vault = build_key_vault(
        cfg, namer, tags, network, tenant_id=client.tenant_id, secrets=postgres_secrets
    )
    # After the vault: a credential set names secrets in it.
    registry = build_registry(cfg, namer, tags, network, cluster, key_vault=key_vault)
    AllowedImagesPolicy(
        "allowed-images",
        AllowedImagesPolicyArgs(
            cluster_resource_id=cluster.resource_id,
            registry_login_server=registry.login_server,
            upstream_hosts=tuple(cfg.security.allowed_image_upstreams),
            effect=cfg.security.allowed_images_effect,
            assignment_name="allowed-container-images",
        ),
    )
    workloads = build_workloads(
        cfg,
        WorkloadInputs(
            resource_group_name=network.resource_group_name,
            location=cfg.location,
            cluster_name=cluster.name,
            oidc_issuer_url=cluster.oidc_issuer_url,
            tenant_id=client.tenant_id,
            storage_account_name=data_lake.name,
            artifacts_container_resource_id=data_lake.container_resource_ids["mlflow-artifacts"],
            key_vault_name=key_vault.name,
            key_vault_resource_id=key_vault.resource_id,
            postgres_fqdn=postgres.fqdn,
            postgres_admin_login=_required(postgres.administrator_login, "administrator_login"),
            # Secrets' outputs (not literal names) so workloads wait for the secrets.
            postgres_admin_password_secret_name=key_vault.secret_names[
                _required(postgres.password_secret_name, "password_secret_name")
            ],
            postgres_app_password_secret_names={
                app.key: key_vault.secret_names[password_secret_name(app)] for app in app_roles(cfg)
            },
            postgres_database_resource_ids=postgres.database_resource_ids,
            postgres_extensions_resource_id=postgres.extensions_resource_id,
            tags=tags,
            # Both directions of every peering and the API server zone's links to the peered
            # VNets: the first `pulumi up` from a runner must not resolve the private API
            # server before its VNet is linked and peered.
            api_server_path_ids=[
                *(network.peering_ids[k] for k in sorted(network.peering_ids)),
                *(cluster.api_dns_link_ids[k] for k in sorted(cluster.api_dns_link_ids)),
            ],
            image_registry=image_registry(cfg, namer),
            # The kubelet's AcrPull and the cache rules: no pod may pull through the registry
            # before they exist.
            image_pull_ids=registry.pull_ready_ids,
            namer=namer,
        ),
    )
    observability = build_observability(
        cfg,
        namer,
        tags,
        log_analytics,
        MonitoredResources(
            network=network,
            cluster=cluster,
            data_lake=data_lake,
            key_vault=key_vault,
            postgres=postgres,
        ),
        # The stack's alert rules (thresholds, `for`, severities from the `alerts` config),
        # registered beside the recommended AKS recording rules.
        alert_groups=alert_rule_groups(
            cfg.alerts,
            gpu_pool_max_counts={p.name: p.max_count for p in cfg.gpu_pools},
            mlflow_namespace=cfg.mlflow.namespace,
        ),
    )
    workflows = build_workflows(
        cfg,
        WorkflowInputs(
            resource_group_name=network.resource_group_name,
            oidc_issuer_url=cluster.oidc_issuer_url,
            tenant_id=client.tenant_id,
            cluster_resource_id=cluster.resource_id,
            registry_login_server=registry.login_server,
            storage_account_name=data_lake.name,
            container_names=data_lake.container_names,
            container_resource_ids=dict(data_lake.container_resource_ids),
            key_vault_name=key_vault.name,
            key_vault_resource_id=key_vault.resource_id,
            monitor_workspace_resource_id=observability.prometheus.workspace_resource_id,
            prometheus_query_endpoint=observability.prometheus.query_endpoint,
            mlflow_tracking_uri=workloads.mlflow.tracking_uri,
            vector_credential_secret_name=workloads.vector_store.credential_secret_name,
            vector_endpoint=workloads.vector_store.endpoint,
            postgres_fqdn=postgres.fqdn,
            vectors_login=vectors_login(workloads.database_roles.logins),
            provider_opts=pulumi.ResourceOptions(providers={"kubernetes": workloads.provider}),
            namer=namer,
            tags=tags,
        ),
    )
    serving = build_serving(
        cfg,
        ServingInputs(
            provider_opts=pulumi.ResourceOptions(providers={"kubernetes": workloads.provider}),
            registry_login_server=registry.login_server,
            tracking_uri=tracking_uri(cfg.mlflow.namespace),
            resource_group_name=network.resource_group_name,
            oidc_issuer_url=cluster.oidc_issuer_url,
            monitor_workspace_resource_id=observability.prometheus.workspace_resource_id,
            prometheus_query_endpoint=observability.prometheus.query_endpoint,
            client_namespaces=platform_namespaces(cfg),
            tags=tags,
            namer=namer,
        ),
    )
    return Platform(
        network=network,
        cluster=cluster,
        registry=registry,
        node_pools=pools,
        data_lake=data_lake,
        key_vault=key_vault,
        postgres=postgres,
        workloads=workloads,
        observability=observability,
        workflows=workflows,
        serving=serving,
    )


def _required(value: str | None, what: str) -> str:
    # Config validation guarantees password sign-in (and so these values) for MLflow.
    if value is None:
        raise ValueError(f"postgres {what} is unset although password sign-in is required")
    return value
