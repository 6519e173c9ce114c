#pragma once
int Core();
