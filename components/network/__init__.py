"""Network: resource group, VNet and subnets, NSGs, private DNS zones, peerings."""
