from rest_framework import serializers

from .models import Item


class ItemSerializer(serializers.ModelSerializer):
    owner = serializers.ReadOnlyField(source="owner.username")

    class Meta:
        model = Item
        fields = ["id", "title", "description", "owner", "created_at"]
        read_only_fields = ["id", "owner", "created_at"]
